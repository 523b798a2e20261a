export const SUPPORTED_CLAUDE_CODE_VERSIONS: string[];
export const CLAUDE_CODE_VERSION: string;
export const CLAUDE_CODE_VERSIONS: string[];
export const CLAUDE_CODE_DIR: string;
export function claudeCodeBin(version?: string): string;
export function ensureClaudeCode(version?: string): string;
