// Where a command's follows tell an API outage (src/render/outage-notice.ts): one ApiOutage per
// client, shared by every follow of the command; above the spinner on a terminal, a plain line
// on stderr otherwise, JSON output included.
import { describe, expect, it } from "vitest";
import { type Progress, silentProgress } from "../../src/io/progress.js";
import { outageNotices } from "../../src/render/outage-notice.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { testContext } from "../helpers/test-context.js";

function recording(): Progress & { infos: string[] } {
  const infos: string[] = [];
  return { ...silentProgress(), info: (text: string) => infos.push(text), infos };
}

function tellOnce(o: ReturnType<typeof outageNotices>, clock: { advance(ms: number): void }) {
  o.lost("connection refused");
  clock.advance(5_000);
  o.lost("connection refused");
}

const line = "kvmig: lost the API server (connection refused); reconnecting for 5s so far";

describe("outageNotices", () => {
  it("one per client: the follows of one command tell an outage once", () => {
    const { ctx, clock, stderr } = testContext();
    const kube = fakeKube({});
    const first = outageNotices(ctx, kube);
    expect(outageNotices(ctx, kube, recording())).toBe(first);
    expect(outageNotices(ctx, fakeKube({}))).not.toBe(first);
    tellOnce(first, clock);
    expect(stderr()).toBe(`${line}\n`);
  });

  it("on a terminal, above the spinner", () => {
    const { ctx, clock, stderr } = testContext({ tty: true });
    const progress = recording();
    tellOnce(outageNotices(ctx, fakeKube({}), progress), clock);
    expect(progress.infos).toEqual([line]);
    expect(stderr()).toBe("");
  });

  it("in a pipe, and with -o json (whose progress is silent), a plain line on stderr", () => {
    for (const mode of ["text", "json"] as const) {
      const { ctx, clock, stderr } = testContext({ tty: mode === "json" });
      ctx.io.setOutputMode(mode);
      const progress = recording();
      tellOnce(outageNotices(ctx, fakeKube({}), progress), clock);
      expect(progress.infos).toEqual([]);
      expect(stderr()).toBe(`${line}\n`);
    }
  });
});
