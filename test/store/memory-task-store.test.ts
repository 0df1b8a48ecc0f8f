import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { describeTaskStoreContract } from './contract.js';

describeTaskStoreContract('in memory', async () => new MemoryTaskStore());
