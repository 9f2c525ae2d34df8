/** A minimal Server-Sent Events client for tests: parses frames and waits for matching ones. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: any;
  comment?: string;
}

export class SseClient {
  readonly frames: SseFrame[] = [];
  status = 0;
  headers = new Headers();
  private waiters: (() => void)[] = [];
  private controller = new AbortController();
  ended = false;

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, { headers, signal: client.controller.signal });
    client.status = res.status;
    client.headers = res.headers;
    if (res.ok && res.body) void client.pump(res.body);
    else {
      client.frames.push({ data: await res.json().catch(() => null) });
      client.ended = true;
    }
    return client;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: SseFrame = {};
          for (const line of raw.split('\n')) {
            if (line.startsWith(':')) frame.comment = line.slice(1).trim();
            else if (line.startsWith('id: ')) frame.id = line.slice(4);
            else if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6));
          }
          this.frames.push(frame);
          this.waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {
      // aborted
    } finally {
      this.ended = true;
      this.waiters.splice(0).forEach((w) => w());
    }
  }

  /** Events (frames with an `event` of the store, i.e. with an id). */
  get events(): SseFrame[] {
    return this.frames.filter((f) => f.id);
  }

  async waitFor(predicate: (frames: SseFrame[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      if (this.ended) throw new Error(`stream ended; frames: ${JSON.stringify(this.frames.slice(-5))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.min(left, 200));
      });
    }
  }

  close(): void {
    this.controller.abort();
  }
}
