import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { pipelineNameSchema } from "../config/pipeline.schema.ts";
import { parsePipeline } from "../config/validate-pipeline.ts";
import type { Db } from "../store/database.ts";
import { pipelines, type StoredPipeline } from "../store/pipelines.sql.ts";
import { mayReadByName, requireWriteByName, type Caller } from "./caller.ts";
import { BadRequest, REPOSITORY, type Route, readJsonBody, sendError, sendJson, sendProblems } from "./http.ts";


const storeRequest = z.object({ repository: z.string().regex(REPOSITORY, "owner/name"), name: pipelineNameSchema, definition: z.unknown() }).strict();

/**
 * Pipelines stored through the REST API (README: REST API), by repository and name: the same
 * format and rules as `pipelines:` in `.github/agent.yml`, checked before anything is
 * stored, each problem with the path of the field it is about.
 */
export function registerPipelineRoutes(route: Route, db: Db): void {
  route(
    "POST",
    "/api/pipelines",
    async (req, res, _params, _url, caller) => {
      const request = storeRequest.safeParse(await readJsonBody(req));
      if (!request.success) return sendProblems(res, "invalid request", request.error.issues);
      await requireWriteByName(caller, request.data.repository);
      const parsed = parsePipeline(request.data.definition);
      if (!parsed.ok) return sendProblems(res, "invalid pipeline", parsed.problems.map((problem) => ({ path: ["definition", ...problem.path], message: problem.message })));
      const [, owner, name] = REPOSITORY.exec(request.data.repository)!;
      const [stored] = await db
        .insert(pipelines)
        .values({ repoOwner: owner!, repoName: name!, name: request.data.name, definition: parsed.pipeline })
        .onConflictDoUpdate({ target: [pipelines.repoOwner, pipelines.repoName, pipelines.name], set: { definition: parsed.pipeline, updatedAt: new Date() } })
        .returning();
      sendJson(res, 201, pipelineToJson(stored!));
    },
    people,
  );
  route(
    "GET",
    "/api/pipelines",
    async (_req, res, _params, url, caller) => {
      const repository = url.searchParams.get("repository");
      const match = repository ? REPOSITORY.exec(repository) : null;
      if (repository && !match) return sendError(res, 400, "`repository` must be owner/name");
      const rows = await db
        .select()
        .from(pipelines)
        .where(match ? and(eq(pipelines.repoOwner, match[1]!), eq(pipelines.repoName, match[2]!)) : undefined)
        .orderBy(asc(pipelines.repoOwner), asc(pipelines.repoName), asc(pipelines.name));
      const readable = [];
      for (const row of rows) if (await mayReadByName(caller, `${row.repoOwner}/${row.repoName}`)) readable.push(row);
      sendJson(res, 200, { pipelines: readable.map(pipelineToJson) });
    },
    people,
  );
  route(
    "GET",
    "/api/pipelines/:id",
    async (_req, res, params, _url, caller) => {
      sendJson(res, 200, pipelineToJson(await readablePipeline(db, caller, params.id!)));
    },
    people,
  );
  route(
    "DELETE",
    "/api/pipelines/:id",
    async (_req, res, params, _url, caller) => {
      const pipeline = await readablePipeline(db, caller, params.id!);
      await requireWriteByName(caller, `${pipeline.repoOwner}/${pipeline.repoName}`);
      const deleted = await db.delete(pipelines).where(eq(pipelines.id, params.id!)).returning({ id: pipelines.id });
      if (deleted.length === 0) return sendError(res, 404, "no pipeline with that id");
      res.writeHead(204).end();
    },
    people,
  );
}

const people = { people: true };

/** The stored pipeline, if the caller may read its repository; a 404 otherwise, as for an unknown one. */
export async function readablePipeline(db: Db, caller: Caller, id: string): Promise<StoredPipeline> {
  const [row] = await db.select().from(pipelines).where(eq(pipelines.id, id));
  if (!row || !(await mayReadByName(caller, `${row.repoOwner}/${row.repoName}`))) throw new BadRequest(404, "no pipeline with that id");
  return row;
}

function pipelineToJson(row: StoredPipeline) {
  return { id: row.id, repository: `${row.repoOwner}/${row.repoName}`, name: row.name, definition: row.definition, created_at: row.createdAt.toISOString(), updated_at: row.updatedAt.toISOString() };
}
