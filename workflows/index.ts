/** Everything the worker bundles. */
export { ticketWorkflow } from './ticket.workflow.js';
