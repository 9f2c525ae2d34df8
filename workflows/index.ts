/** Everything the worker bundles. */
export { ticketWorkflow, ticketWorkflowV2 } from './ticket.workflow.js';
export { webhookDeliveryWorkflow } from './webhook-delivery.workflow.js';
export { slaRepairWorkflow } from './sla-repair.workflow.js';
