import type {Generated} from '@bcl/postgres';

/** svapp's tables, as Kysely checks queries against them (migrations in ./migrations.ts). */
export interface SvappDb {
  svapp_operations: {
    id: string;
    kind: string;
    /** SHA-256 of the normalized request: the same id with another request is a conflict. */
    request_hash: string;
    request: unknown;
    environment: string | null;
    services: string[];
    requester: unknown;
    client: unknown;
    state: string;
    /** The policy's decision for each service (JSON as it is). */
    decisions: unknown;
    result: unknown;
    last_seq: Generated<number>;
    attempts: Generated<number>;
    /** Runs that ended in a handover (their replica stopping cleanly). */
    handovers: Generated<number>;
    /** The attempt number of the last run handed over. */
    last_handover_attempt: number | null;
    runner: string | null;
    cancel_requested: unknown;
    created_at: Generated<Date>;
    started_at: Date | null;
    finished_at: Date | null;
  };
  svapp_operation_events: {
    op_id: string;
    seq: number;
    type: string;
    data: unknown;
    at: Generated<Date>;
  };
}
