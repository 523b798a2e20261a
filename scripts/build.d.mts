export const DIST_DIR: string;
export const BUNDLE_PATH: string;
export function bundleFiles(): Promise<Record<string, string>>;
export function writeBundle(dir: string): Promise<string>;
export function writeAtomic(path: string, text: string): void;
export const PLUGIN_DIR: string;
export const PLUGIN_ASSETS: string[];
export function pluginFiles(bundle: Record<string, string>): Record<string, { data: Buffer; executable: boolean }>;
