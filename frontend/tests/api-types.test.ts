import { readFileSync } from "node:fs";
import openapiTS, { COMMENT_HEADER, astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";

// What `npm run api-types` writes: openapi-typescript's CLI with no options, which is its
// Node API with the defaults and the CLI's header. An option added to the script must be
// added here too. The JSON itself is checked against the services by the Python test
// tests/contract/test_frontend_api_types.py.
const SERVICES = ["auth", "chat"] as const;

async function generated(service: string): Promise<string> {
  const document = new URL(`../openapi/${service}.json`, import.meta.url);
  return COMMENT_HEADER + astToString(await openapiTS(document, { silent: true }));
}

describe("the generated API types", () => {
  it.each(SERVICES)(
    "lib/generated/%s.gen.ts is what openapi-typescript makes of its OpenAPI document",
    async (service) => {
      const committed = readFileSync(new URL(`../lib/generated/${service}.gen.ts`, import.meta.url), "utf8");
      expect(committed, "stale: run `npm run api-types` (or `make api-types`) and commit the result").toBe(
        await generated(service),
      );
    },
  );
});
