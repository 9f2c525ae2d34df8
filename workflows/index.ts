/** Everything the worker bundles. */
export { ticketWorkflow } from './ticket.workflow.js';
export { webhookDeliveryWorkflow } from './webhook-delivery.workflow.js';
export { slaRepairWorkflow } from './sla-repair.workflow.js';
