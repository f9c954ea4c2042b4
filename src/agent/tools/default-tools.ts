import type { AgentTool } from './agent-tool.js';
import { bashTool } from './bash-tool.js';
import { editTool } from './edit-tool.js';
import { finishTool } from './finish-tool.js';
import { searchTool } from './search-tool.js';

/** The tools a coding droid gets: edit, bash, search and finish (in the order the model sees them). */
export function defaultTools(): readonly AgentTool[] {
  return [editTool, bashTool, searchTool, finishTool];
}
