/**
 * The API's shapes as the dashboard reads them (README: REST API). Types only: this module
 * exports nothing at run time.
 *
 * @typedef {{ id: number, at: string, kind: string, message: string, data: Record<string, unknown> | null }} LogEntry
 * @typedef {{ name: string, round: number | null, started_at: string, ended_at: string | null, duration_ms: number | null, tokens_in: number | null, tokens_out: number | null, cost: number | null }} Phase
 * @typedef {{ title: string, detail: string, files: string[] }} PlanStep
 * @typedef {{ summary: string, steps: PlanStep[] }} Plan
 * @typedef {{
 *   id: string, status: string, phase: string | null, repository: string, issue_number: number | null,
 *   trigger: string, task: string, requester: string | null, branch: string | null, pr_url: string | null,
 *   pr_number: number | null, total_cost: number, total_tokens_in: number, total_tokens_out: number,
 *   iterations: number, tests_passed: boolean | null, failure: { kind: string, message: string | null } | null, cancel_requested_at?: string | null, cancel_requested_by?: string | null,
 *   timings: Record<string, number> | null, usage_by_phase: Record<string, { cost: number, tokensIn: number, tokensOut: number }> | null,
 *   created_at: string, started_at: string | null, finished_at: string | null,
 *   logs?: LogEntry[], phases?: Phase[], plan?: Plan | null, changed_files?: string[] | null, summary?: string | null
 * }} Job
 * @typedef {{
 *   name: string, depends_on: string[], on_failure: string, state: string, job_id: string | null,
 *   job: { status: string, phase: string | null, iterations: number, tests_passed: boolean | null, total_cost: number, failure: { kind: string, message: string | null } | null } | null,
 *   output: unknown, error: string | null
 * }} RunStep
 * @typedef {{
 *   id: string, pipeline: string, repository: string, issue_number: number | null, status: string,
 *   inputs: Record<string, string>, requester: string | null, branch: string, pr_url: string | null, pr_number: number | null,
 *   total_cost: number, cancel_requested_by: string | null, steps: RunStep[], created_at: string, finished_at: string | null
 * }} Run
 * @typedef {{ id: string, repository: string, name: string, definition: { description?: string, steps: Array<{ name: string, task: string, depends_on?: string[], on_failure?: string }> } }} Pipeline
 * @typedef {{ repository: string, default_branch: string, can_write: boolean }} Repository
 * @typedef {{ date: string, completed: number, completed_failing_checks?: number, failed: number, cancelled: number, timed_out: number, cost: number, duration_p50_s: number | null, duration_p90_s: number | null, merged: number, closed_unmerged: number }} Day
 * @typedef {{ sign_in_available: boolean, user: { login: string, id: number } | null, csrf_token: string | null }} Session
 */

export {};
