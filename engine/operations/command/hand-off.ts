import type { CommandPlan } from "./plan.ts";

/**
 * Thrown when the rest of a command goes to a deferred job: with the saved plan, or without one
 * when the device could not be read in time (the job then plans the command itself).
 */
export class HandOffCommand extends Error {
  constructor(
    readonly plan?: CommandPlan,
    /** Run the job no sooner than this (a vendor quota used up); absent: at once. */
    readonly delayMs?: number,
  ) {
    super("command handed off");
    this.name = "HandOffCommand";
  }
}
