/** Many machines, one search: the job queue on the run database, the coordinator's queue evaluator, the worker loop. */
export * from './job-queue.js';
export * from './queue-evaluator.js';
export * from './evaluation-worker.js';
export * from './devices.js';
