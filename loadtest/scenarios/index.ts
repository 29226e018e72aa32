// Scenarios beyond the side-by-side GET comparison. Each one runs only when the code it measures has
// landed; those owned by other parts of the product live beside their own code and are called from here.
import type { Upstream } from '../upstream/start.ts';
import { routeLookups } from './route-lookups.ts';
import { tokenValidation } from './token-validation.ts';
import { watchFanout } from './watch-fanout.ts';
import type { BenchEnv } from '../targets/types.ts';

export interface ScenarioContext {
  env: BenchEnv;
  upstream: Upstream;
  log: (line: string) => void;
  quick: boolean;
  /** Time left before the bench's overall bound; a scenario scales itself down to fit. */
  remainingMs: number;
}

export interface ScenarioReport {
  title: string;
  markdown: string;
}

export interface Scenario {
  name: string;
  run(context: ScenarioContext): Promise<ScenarioReport>;
}

export const extraScenarios: Scenario[] = [watchFanout, routeLookups, tokenValidation];
