/** The Supervisor's decision engine: rules, the planner model and the agent history. */
export * from './agent-rules';
export * from './rule-planner';
export * from './planner-output-schema';
export * from './planner-prompt';
export * from './llm-planner';
export * from './agent-history';
export * from './combine-decisions';
export * from './decision-engine';
export * from './history-recorder';
