export * from './schema';
export * from './curated';
export * from './model';
export * from './problems';
export * from './row-filter';
export * from './benefit';
export { loadConfig, validateConfigDir, validateConfigFiles, type LoadOptions } from './loader';
