import type { TestProjectConfiguration } from "vitest/config"

/**
 * The test projects of the workspace, one per package. vitest 5 no longer reads this file on its
 * own: `vitest.config.ts` imports the array and hands it to `test.projects`.
 */
export const projects: Array<TestProjectConfiguration> = [
  {
    test: {
      name: "core",
      root: "./packages/core",
      include: ["test/**/*.test.ts"]
    }
  },
  {
    test: {
      name: "testing",
      root: "./packages/testing",
      include: ["test/**/*.test.ts"]
    }
  },
  {
    test: {
      name: "postgres",
      root: "./packages/postgres",
      include: ["test/**/*.test.ts"],
      globalSetup: ["./test/globalSetup.ts"],
      testTimeout: 30_000,
      hookTimeout: 120_000
    }
  },
  {
    test: {
      name: "aws",
      root: "./packages/aws",
      include: ["test/**/*.test.ts"],
      globalSetup: ["../postgres/test/globalSetup.ts"],
      testTimeout: 30_000,
      hookTimeout: 120_000
    }
  },
  {
    test: {
      name: "cli",
      root: "./packages/cli",
      include: ["test/**/*.test.ts"]
    }
  },
  {
    test: {
      name: "online-shop",
      root: "./examples/online-shop",
      include: ["*/test/**/*.test.ts"]
    }
  },
  {
    test: {
      name: "online-shop-dcb",
      root: "./examples/online-shop-dcb",
      include: ["*/test/**/*.test.ts"]
    }
  },
  {
    test: {
      name: "shops",
      root: "./examples/shops",
      include: ["test/**/*.test.ts"],
      globalSetup: ["../../packages/postgres/test/globalSetup.ts"],
      hookTimeout: 120_000
    }
  }
]
