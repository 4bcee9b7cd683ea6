// Workflows by name: the worker's workflowsPath points at this one module.
export { hubWorkflow } from './hub';
export { buildWorkflow } from './build';
export { pollRepositoriesWorkflow } from './poll';
export { indexAdminWorkflow } from './index-admin';
export { waveWorkflow } from './wave';
export { tryWorkflow, trySweepWorkflow } from './try';
export { verificationWorkflow } from './verification';
