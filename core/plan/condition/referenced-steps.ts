import type { CompiledCondition, ConditionNode } from './ast';
import { STEPS_ROOT } from './limits';

/**
 * Step ids a condition reads through `steps.<id>` or `steps["<id>"]`, each once, in order of
 * first appearance. Plan validation uses them to reject dangling references and to add
 * implicit dependencies; the parser guarantees no other way to read a step exists.
 */
export function referencedSteps(compiled: CompiledCondition): string[] {
  const found = new Set<string>();
  const pending: ConditionNode[] = [compiled.ast];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    switch (node.kind) {
      case 'path': {
        const [stepId] = node.segments;
        if (node.root === STEPS_ROOT && typeof stepId === 'string') found.add(stepId);
        break;
      }
      case 'call':
        pending.push(...[...node.args].reverse());
        break;
      case 'not':
        pending.push(node.operand);
        break;
      case 'logical':
        pending.push(...[...node.operands].reverse());
        break;
      case 'comparison':
        pending.push(node.right, node.left);
        break;
      case 'literal':
        break;
    }
  }
  return [...found];
}
