// A certificate authority made for one test run, and a server certificate for 127.0.0.1 it
// signs: the same generator the simulated cluster uses.
import { createPki, type Pki } from "../../src/sim/pki.js";

export type TestPki = Pki;

export function createTestPki(commonName = "kvmig-test-ca"): Promise<TestPki> {
  return createPki(commonName, 1);
}
