import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { describeAuditContract } from './audit-contract.js';
import { describeTaskStoreContract } from './contract.js';

describeTaskStoreContract('in memory', async () => new MemoryTaskStore());
describeAuditContract('in memory', async () => new MemoryTaskStore());
