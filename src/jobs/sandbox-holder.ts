import type { Sandbox, SandboxLimits, SandboxProvider } from "../sandbox/sandbox.ts";
import type { Job } from "../store/jobs.sql.ts";
import { JobError } from "../job-error.ts";

/**
 * The job's sandbox, destroyable from outside (a stopping worker, a cancel) as well as at
 * the end, when it is either destroyed or parked for a follow-up.
 */
export class SandboxHolder {
  private sandbox: Sandbox | null = null;
  private destroyed = false;
  private readonly provider: SandboxProvider;

  constructor(provider: SandboxProvider) {
    this.provider = provider;
  }

  async create(job: Job, limits: SandboxLimits, egress: readonly string[] = []): Promise<Sandbox> {
    return this.hold(() => this.provider.create({ jobId: job.id, limits, ...(egress.length > 0 ? { egress } : {}) }));
  }

  /** A spare sandbox (a warm agent's) made this job's; destroyed when it cannot be. */
  async adopt(job: Job, sandbox: Sandbox): Promise<Sandbox> {
    return this.hold(async () => {
      try {
        await sandbox.assign?.(job.id);
      } catch (error) {
        await sandbox.destroy();
        throw error;
      }
      return sandbox;
    });
  }

  /** A parked sandbox taken back for this job; null when the provider cannot, or it is gone. */
  async resume(job: Job, parkedId: string, limits: SandboxLimits): Promise<Sandbox | null> {
    const resume = this.provider.resume?.bind(this.provider);
    if (!resume) return null;
    return this.hold(() => resume(parkedId, { jobId: job.id, limits }));
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.sandbox?.destroy();
  }

  /** Park the sandbox (workspace and agent sessions kept) when the provider can; destroy it otherwise. Returns the parked id. */
  async park(): Promise<string | null> {
    const sandbox = this.sandbox;
    if (this.destroyed || !sandbox?.park) {
      await this.destroy();
      return null;
    }
    this.destroyed = true;
    return sandbox.park();
  }

  private async hold<T extends Sandbox | null>(open: () => Promise<T>): Promise<T> {
    if (this.destroyed) throw new JobError("cancelled", "the worker is stopping");
    let sandbox: T;
    try {
      sandbox = await open();
    } catch (error) {
      throw new JobError("sandbox", `the sandbox did not start: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
    }
    this.sandbox = sandbox;
    if (this.destroyed) await sandbox?.destroy();
    return sandbox;
  }
}
