/** Every `tickwork` command, group by group, in the order `--help` lists them. */
import type { Command } from '../command.js';
import { auditCommands } from './audit.js';

import { backfillCommands } from './backfill.js';
import { completionCommands } from './completion.js';
import { devCommands } from './dev.js';
import { logCommands } from './logs.js';
import { previewCommands } from './preview.js';
import { replayCommands } from './replay.js';

import { reshardCommands } from './reshard.js';
import { runCommands } from './runs.js';
import { schedulerCommands } from './scheduler.js';
import { taskCommands } from './tasks.js';
import { typeCommands } from './types.js';

export const commands: readonly Command[] = [
  ...devCommands,
  ...taskCommands,
  ...runCommands,
  ...replayCommands,
  ...backfillCommands,
  ...logCommands,
  ...schedulerCommands,
  ...typeCommands,
  ...previewCommands,
  ...auditCommands,

  ...reshardCommands,
  ...completionCommands,
];
