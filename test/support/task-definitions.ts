import type { Task } from '@argus/contracts';
import { describeTask } from '@argus/task-describe';
import { moderationTask } from '@argus/task-moderation';
import { ocrTask } from '@argus/task-ocr';
import { taggingTask } from '@argus/task-tagging';
import type { TaskDefinition } from '@argus/worker';

/** Each task's definition as its service's main.ts runs it, for tests that start workers in process. */
export function taskDefinition(task: Task): TaskDefinition {
  const definitions: Record<Task, () => TaskDefinition> = {
    moderation: () => moderationTask(),
    tagging: () => taggingTask(),
    ocr: () => ocrTask,
    describe: () => describeTask,
  };
  return definitions[task]();
}
