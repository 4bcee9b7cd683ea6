import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Application } from 'express';

/**
 * The HTTP server around the app. What Node's parser refuses before express sees a request (a request line or
 * headers over 16 KiB, a malformed request line, an unknown method) is answered here, in the API's error shape
 * with a request id, instead of Node's bare `400 Bad Request` without a body.
 */
const PARSER_ERRORS: Record<string, { status: number; reason: string; code: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', code: 'headers_too_large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: 'request_timeout' },
};

export function clientErrorResponse(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): string {
  const known = (err.code && PARSER_ERRORS[err.code]) || { status: 400, reason: 'Bad Request', code: 'bad_request' };
  const requestId = randomUUID();
  const message = known.status === 431 ? 'the request line and headers exceed 16 KiB' : `the request could not be parsed as HTTP (${err.code ?? 'unknown parser error'})`;
  const body = JSON.stringify({ error: { code: known.code, message, requestId } });
  // A response to HEAD has no body, whatever its status; a client would read ours as the next response.
  const head = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  return [
    `HTTP/1.1 ${known.status} ${known.reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'Connection: close',
    '',
    head ? '' : body,
  ].join('\r\n');
}

/** Starts listening; resolves with the server once it accepts connections. */
export function listen(app: Application, port: number, host: string): Promise<Server> {
  const server = createServer(app);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A reset connection has nobody to answer; neither has one whose response already started.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err));
  });
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
