/** The handler Lambda of the app's task types. */
import { createTaskHandler } from 'tickwork/task';
import { tasks } from './tasks.js';

export { tasks };
export const handler = createTaskHandler(tasks);
