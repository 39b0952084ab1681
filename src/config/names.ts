// The fixed names, apart from the config schema so that commands which read no config do not load zod.

export const FLAVOURS = ['openclaw', 'clawdbot'] as const;
export type Flavour = (typeof FLAVOURS)[number];
export const INSTANCE_NAMES = ['main', 'rescue'] as const;
export type InstanceName = (typeof INSTANCE_NAMES)[number];
