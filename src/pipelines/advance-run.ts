import { eq } from "drizzle-orm";
import type pg from "pg";
import type { Db } from "../store/database.ts";
import { pipelineRuns, type NewPipelineRun, type PipelineRun, type RunStep } from "../store/pipeline-runs.sql.ts";
import { withTransaction } from "../store/transaction.ts";
import { graphOf, upstreamOf } from "../config/pipeline-graph.ts";
import { nextTransitionOf, type StepStates } from "./ready-steps.ts";
import { renderTask } from "./render-template.ts";

/**
 * Starts one step of a run, inside the run's transaction (the job row and its queue
 * message commit with the run's new state, or not at all). Returns the job's id.
 */
export type StepLauncher = (tx: Db, client: pg.PoolClient, run: PipelineRun, step: { name: string; task: string }) => Promise<string>;

export type StepOutcome = { state: "completed" | "failed" | "cancelled"; output?: Record<string, unknown> | null };

/**
 * Create a run and start its first steps in one transaction: the run, its first jobs and
 * their queue messages all exist, or none does. `claim` runs first in the same
 * transaction (a webhook delivery's row); when it returns false nothing is created.
 */
export async function startRun(pool: pg.Pool, values: NewPipelineRun, launch: StepLauncher, claim: (tx: Db) => Promise<boolean> = async () => true): Promise<PipelineRun | null> {
  return withTransaction(pool, async (tx, client) => {
    if (!(await claim(tx))) return null;
    const [run] = await tx.insert(pipelineRuns).values(values).returning();
    return advanceLocked(tx, client, run!, launch);
  });
}

/**
 * Stop a run: no step starts after this, pending steps are cancelled at once, and the ids
 * of the jobs still running are returned for the caller to cancel (their ends are
 * recorded as they come). Null when there is no such run.
 */
export async function cancelRun(pool: pg.Pool, runId: string, by: string): Promise<{ run: PipelineRun; runningJobIds: string[] } | null> {
  return withTransaction(pool, async (tx, client) => {
    const locked = await lockRun(tx, runId);
    if (!locked) return null;
    const requested = locked.cancelRequestedAt === null && locked.status === "running" ? { cancelRequestedAt: new Date(), cancelRequestedBy: by } : {};
    const run = await advanceLocked(tx, client, { ...locked, ...requested }, async () => {
      throw new Error("a cancelled run starts nothing");
    });
    const runningJobIds = Object.values(run.steps).flatMap((step) => (step.state === "running" && step.jobId ? [step.jobId] : []));
    return { run, runningJobIds };
  });
}

/**
 * Reopen a run that ended at a failed or cancelled step, so that the step's job can run
 * again (`/agent retry`, the API): the step is `running` once more, the steps after it
 * that never ran are pending again, and the run is `running`. In the caller's transaction,
 * under the run's row lock. False when the run is still going (it may yet start steps
 * after this one) or the job is not that step's.
 */
export async function reopenStep(tx: Db, runId: string, stepName: string, jobId: string): Promise<boolean> {
  const run = await lockRun(tx, runId);
  const step = run?.steps[stepName];
  if (!run || run.status === "running" || step?.jobId !== jobId || (step.state !== "failed" && step.state !== "cancelled")) return false;
  const graph = graphOf(run.definition);
  const steps: Record<string, RunStep> = { ...run.steps, [stepName]: { state: "running", jobId } };
  for (const [name, later] of Object.entries(run.steps)) {
    if (later.state === "cancelled" && later.jobId === undefined && upstreamOf(graph, name).has(stepName)) delete steps[name];
  }
  await tx.update(pipelineRuns).set({ steps, status: "running", finishedAt: null, cancelRequestedAt: null, cancelRequestedBy: null, updatedAt: new Date() }).where(eq(pipelineRuns.id, runId));
  return true;
}

/** `/agent cancel` on a thread: every run of the thread still going is cancelled. Returns them. */
export async function cancelRunsOnThread(pool: pg.Pool, thread: { repoId: number; issueNumber: number }, by: string): Promise<PipelineRun[]> {
  const running = await pool.query<{ id: string }>("select id from pipeline_runs where repo_id = $1 and issue_number = $2 and status = 'running'", [thread.repoId, thread.issueNumber]);
  const cancelled: PipelineRun[] = [];
  for (const { id } of running.rows) {
    const outcome = await cancelRun(pool, id, by);
    if (outcome) cancelled.push(outcome.run);
  }
  return cancelled;
}

/**
 * Record how a step's job ended, then advance the run, in one transaction. Only a step
 * still `running` is recorded: a second report of the same end (a redelivered job, two
 * workers) changes nothing, so the run advances exactly once per finished step.
 */
export async function recordStepOutcome(pool: pg.Pool, runId: string, stepName: string, outcome: StepOutcome, launch: StepLauncher): Promise<PipelineRun | null> {
  return withTransaction(pool, async (tx, client) => {
    const run = await lockRun(tx, runId);
    if (!run || run.steps[stepName]?.state !== "running") return run;
    const steps = { ...run.steps, [stepName]: { ...run.steps[stepName]!, state: outcome.state, ...(outcome.output ? { output: outcome.output } : {}) } };
    return advanceLocked(tx, client, { ...run, steps }, launch);
  });
}

async function lockRun(tx: Db, runId: string): Promise<PipelineRun | null> {
  const [run] = await tx.select().from(pipelineRuns).where(eq(pipelineRuns.id, runId)).for("update");
  return run ?? null;
}

/**
 * Start what is ready in a run, cancel what can no longer run, and settle its status.
 * Called under the run's row lock: two workers advancing the same run take turns, and each
 * sees the other's steps as already started, so every step starts exactly once.
 */
async function advanceLocked(tx: Db, client: pg.PoolClient, locked: PipelineRun, launch: StepLauncher): Promise<PipelineRun> {
  const steps: Record<string, RunStep> = { ...locked.steps };
  const run = { ...locked, steps };
  // A step whose task cannot be rendered fails without a job, which can doom others: go round until nothing changes.
  for (;;) {
    const transition = nextTransitionOf(run.definition, statesOf(steps));
    // After a cancel nothing new starts: every step still pending is cancelled.
    const stopped = run.cancelRequestedAt !== null;
    const starting = stopped ? [] : transition.start;
    const pending = run.definition.steps.map((step) => step.name).filter((name) => (steps[name]?.state ?? "pending") === "pending");
    for (const name of stopped ? pending : transition.cancel) steps[name] = { state: "cancelled" };
    let failedToRender = false;
    for (const name of starting) {
      const step = run.definition.steps.find((candidate) => candidate.name === name)!;
      const rendered = renderTask(step.task, { inputs: run.inputs, outputs: outputsOf(steps) });
      if (!rendered.ok) {
        steps[name] = { state: "failed", error: rendered.errors.join("; ") };
        failedToRender = true;
        continue;
      }
      steps[name] = { state: "running", jobId: await launch(tx, client, run, { name, task: rendered.task }) };
    }
    if (failedToRender) continue;
    const status = nextTransitionOf(run.definition, statesOf(steps)).status;
    const [saved] = await tx
      .update(pipelineRuns)
      .set({ steps, status, cancelRequestedAt: run.cancelRequestedAt, cancelRequestedBy: run.cancelRequestedBy, updatedAt: new Date(), ...(status === "running" ? {} : { finishedAt: new Date() }) })
      .where(eq(pipelineRuns.id, run.id))
      .returning();
    return saved!;
  }
}

function statesOf(steps: Record<string, RunStep>): StepStates {
  return Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, step.state]));
}

function outputsOf(steps: Record<string, RunStep>): Record<string, Record<string, unknown> | undefined> {
  return Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, step.output]));
}
