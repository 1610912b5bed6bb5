/** Environment variables the stack sets for the opt-out functions (names and numbers only), shared by the handlers and the stack. */
export const OPTOUT_ENV = {
  /** platform.yaml nationalDataOptOut.maxRemovedShare */
  maxRemovedShare: 'SDE_OPTOUT_MAX_REMOVED_SHARE',
} as const;
