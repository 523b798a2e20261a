export const CLAUDE_CODE_VERSION: string;
export const CLAUDE_CODE_DIR: string;
export function claudeCodeBin(): string;
export function ensureClaudeCode(): string;
