/** The fault mixes of `npm run chaos` and of the suite's variant. */
import type { ChaosConfig } from './sim.js';

/** Every fault kind at once, at rates that make each happen hundreds of times over 100,000 slots. */
export const faultMix: Pick<ChaosConfig, 'store' | 'invoke' | 'crash' | 'bodyFailure' | 'tickOutage'> = {
  store: {
    lostReply: 0.02,
    lostReplySurfaced: 0.005,
    throttled: 0.03,
    throttledSurfaced: 0.005,
    batchStatement: 0.02,
    unprocessedKey: 0.05,
  },
  invoke: { refused: 0.005, lost: 0.005, delayed: 0.01, duplicated: 0.02 },
  crash: {
    tickAfterLease: 0.03,
    tickAfterInvoke: 0.03,
    handlerAfterClaim: 0.003,
    handlerMidBody: 0.003,
    handlerBeforeCompletion: 0.003,
    handlerAfterCompletion: 0.003,
  },
  bodyFailure: 0.01,
  tickOutage: 0.02,
};

/** Task mixes: every catch-up and overlap policy. */
export const allPolicies: Pick<ChaosConfig, 'catchUp' | 'overlap'> = {
  catchUp: ['run-once', 'skip', 'run-all'],
  overlap: ['skip', 'allow', 'queue-one', 'replace'],
};
