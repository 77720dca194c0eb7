// Shapes of the localization request and response (`POST /v1/localization`), as plain TS types.
// schema.ts states the same shapes as JSON schema for Fastify.

/** One entry of the `localization_finish` tool call. */
export interface CodeLocation {
  file: string;
  class_name?: string | null;
  function_name?: string | null;
}

/** LocAgent / CodeScout gold for one file; `null` lists count as empty. */
export interface FileChange {
  file: string;
  changes?: {
    edited_modules?: string[] | null;
    edited_entities?: string[] | null;
    added_modules?: string[] | null;
    added_entities?: string[] | null;
  };
}

export type Gold =
  | { file_changes: FileChange[] }
  | { patch: string; files: Record<string, string> };

export interface LocalizationItem {
  /** The structured prediction; give this or `prediction_text`, not both. */
  locations?: CodeLocation[];
  /** The agent's final turn, holding one hermes `<tool_call>` of `localization_finish`. */
  prediction_text?: string;
  gold: Gold;
}

export interface LevelWeights {
  file?: number;
  module?: number;
  entity?: number;
}

export interface LocalizationBody {
  items: LocalizationItem[];
  weights?: LevelWeights;
}

export interface LevelScore {
  precision: number;
  recall: number;
  f1: number;
}

/** Location sets, each sorted: `path`, `path:Class` or `path:func`, `path:Class.method` or `path:func`. */
export interface LocationSets {
  files: string[];
  modules: string[];
  entities: string[];
}

export interface LocalizationResult {
  reward: number;
  file: LevelScore;
  module: LevelScore;
  entity: LevelScore;
  gold: LocationSets;
  /** False when `prediction_text` held no single well-formed finish call; the reward is then 0. */
  format_ok: boolean;
}

export interface LocalizationResponse {
  results: LocalizationResult[];
}
