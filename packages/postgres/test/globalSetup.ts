/**
 * One PostgreSQL server per test run: `DATABASE_URL` when set, else an embedded server whose data
 * lives in a temporary directory and goes away at the end. Test files get the URL through
 * `inject("databaseUrl")` and each creates its own database.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import * as EmbeddedServer from "../src/EmbeddedServer.ts"

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

export default async function setup(project: TestProject) {
  const given = process.env["DATABASE_URL"]
  if (given !== undefined && given !== "") {
    project.provide("databaseUrl", given)
    return
  }
  const server = await EmbeddedServer.start({ dataDir: join(mkdtempSync(join(tmpdir(), "reventless-pg-")), "data") })
  project.provide("databaseUrl", server.url)
  return () => server.stop()
}
