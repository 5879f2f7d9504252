// --max-failures: the value, the default limit from the failures' causes, and the words that say
// why a bulk run stopped.
import { describe, expect, it } from "vitest";
import { ExitCode, UsageError } from "../../src/errors.js";
import {
  causeMatters,
  failureLimit,
  parseMaxFailures,
  rootCause,
  sharedCause,
  stopAfter,
  stoppedDetail,
  stopText,
} from "../../src/operations/failure-limit.js";

describe("parseMaxFailures", () => {
  it.each([
    ["0", 0],
    ["1", 1],
    [" 12 ", 12],
  ])("%j is %d", (text, value) => {
    expect(parseMaxFailures(text)).toBe(value);
  });

  it.each(["-1", "1.5", "abc", "", "3x", "1e3", "99999999999999999999"])(
    "%j is a usage error (exit 2) with a hint",
    (text) => {
      let error: unknown;
      try {
        parseMaxFailures(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(ExitCode.usage);
      expect((error as UsageError).message).toBe(`invalid --max-failures "${text}"`);
      expect((error as UsageError).hint).toBe(
        "give a whole number of 0 or more, e.g. --max-failures 3 (0: never stop for failures)",
      );
    },
  );
});

describe("the limit", () => {
  it("--max-failures N is N whatever the causes; 0 is no limit", () => {
    expect(failureLimit(2, ["version-skew"])).toBe(2);
    expect(failureLimit(5, [undefined, "a", "b"])).toBe(5);
    expect(failureLimit(0, ["version-skew"])).toBe(Number.POSITIVE_INFINITY);
  });

  it("by default: 1 while every failure has the same known cause, else 3", () => {
    expect(failureLimit(undefined, [])).toBe(3);
    expect(failureLimit(undefined, ["version-skew"])).toBe(1);
    expect(failureLimit(undefined, ["version-skew", "version-skew"])).toBe(1);
    expect(failureLimit(undefined, ["version-skew", "vif-cache-missing"])).toBe(3);
    // An unknown cause is a cause of its own: two unknowns are not one shared cause.
    expect(failureLimit(undefined, [undefined])).toBe(3);
    expect(failureLimit(undefined, [undefined, undefined])).toBe(3);
    expect(failureLimit(undefined, [undefined, "version-skew"])).toBe(3);
    expect(sharedCause(["a", "a"])).toBe("a");
    expect(sharedCause(["a", undefined])).toBeUndefined();
    expect(sharedCause([])).toBeUndefined();
  });

  it("stops once the failures reach it, saying how many, which limit and why", () => {
    expect(stopAfter(3, ["a", "b"])).toBeUndefined();
    expect(stopAfter(3, ["a", "b", "c"])).toEqual({
      failures: 3,
      limit: 3,
      explicit: true,
      cause: undefined,
    });
    expect(
      stopAfter(
        0,
        Array.from({ length: 50 }, () => "a"),
      ),
    ).toBeUndefined();
    expect(stopAfter(undefined, ["version-skew"])).toEqual({
      failures: 1,
      limit: 1,
      explicit: false,
      cause: "version-skew",
    });
    expect(stopAfter(undefined, [undefined])).toBeUndefined();
    expect(stopAfter(undefined, [undefined, "x"])).toBeUndefined();
    expect(stopAfter(undefined, [undefined, "x", "x"])).toEqual({
      failures: 3,
      limit: 3,
      explicit: false,
      cause: undefined,
    });
  });

  it("a cause is worth diagnosing only under the default and while the failures still share one", () => {
    expect(causeMatters(undefined, [])).toBe(true);
    expect(causeMatters(undefined, ["a"])).toBe(true);
    expect(causeMatters(undefined, [undefined])).toBe(false);
    expect(causeMatters(undefined, ["a", "b"])).toBe(false);
    expect(causeMatters(3, [])).toBe(false);
    expect(causeMatters(0, [])).toBe(false);
  });
});

describe("why it stopped", () => {
  it("--max-failures given: the count and the flag", () => {
    const stop = { failures: 3, limit: 3, explicit: true, cause: undefined };
    expect(stopText(stop, 12)).toBe("stopped after 3 failures (--max-failures 3); 12 not started");
    expect(stoppedDetail(stop)).toBe("stopped after 3 failures (--max-failures 3)");
    expect(stopText({ ...stop, failures: 1, limit: 1 }, 1)).toBe(
      "stopped after 1 failure (--max-failures 1); 1 not started",
    );
  });

  it("the default: the shared cause, or that the causes differ", () => {
    expect(stopText({ failures: 1, limit: 1, explicit: false, cause: "version-skew" }, 3)).toBe(
      "stopped after 1 failure (cause: version-skew; the default --max-failures is 1 when the failures share a cause); 3 not started",
    );
    expect(stopText({ failures: 2, limit: 1, explicit: false, cause: "vif-cache-missing" }, 0)).toBe(
      "stopped after 2 failures (shared cause: vif-cache-missing; the default --max-failures is 1 when the failures share a cause); 0 not started",
    );
    expect(stopText({ failures: 3, limit: 3, explicit: false, cause: undefined }, 2)).toBe(
      "stopped after 3 failures (the default --max-failures is 3 when their causes differ or are unknown); 2 not started",
    );
  });
});

describe("rootCause", () => {
  const specificity: Record<string, "cause" | "symptom" | "pattern" | "fallback"> = {
    "migration-backoff": "pattern",
    "migration-connection-lost": "symptom",
    "migration-failed-unexplained": "fallback",
    "target-pod-failed": "symptom",
  };
  const of = (id: string) => specificity[id];

  it("the first error finding whose rule names a mechanism", () => {
    expect(
      rootCause(
        [
          { id: "migration-backoff", severity: "error" },
          { id: "version-skew", severity: "error" },
          { id: "vif-cache-missing", severity: "error" },
        ],
        of,
      ),
    ).toBe("version-skew");
  });

  it("a symptom, a pattern, the fallback or a warning alone is no known cause", () => {
    expect(
      rootCause(
        [
          { id: "migration-connection-lost", severity: "error" },
          { id: "target-pod-failed", severity: "error" },
          { id: "migration-backoff", severity: "error" },
          { id: "migration-failed-unexplained", severity: "error" },
          { id: "network-attachment-missing", severity: "warning" },
          { id: "version-skew", severity: "info" },
        ],
        of,
      ),
    ).toBeUndefined();
    expect(rootCause([], of)).toBeUndefined();
  });
});
