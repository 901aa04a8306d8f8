/** Why a request over NATS did not produce an answer; the caller maps each kind to its own error code. */
export type MessagingFailure = 'no_responders' | 'timeout' | 'disconnected' | 'remote_error' | 'bad_reply';

export class MessagingError extends Error {
  constructor(
    readonly failure: MessagingFailure,
    message: string,
  ) {
    super(message);
    this.name = 'MessagingError';
  }
}
