/**
 * The notify hub (src/notify/hub.ts) on its own: resource channels are one channel whatever
 * their case, every other channel is exact, each listener hears a channel as it spelled it,
 * and delivery is synchronous with no queue of the hub's own, so a listener that falls behind
 * (and is cut off from inside its delivery) costs the others nothing.
 */
import { describe, expect, it } from 'vitest';
import { NotifyHub, type Listener } from '../../src/notify/hub.js';

/** A listener that notes what it hears, as `channel:payload`. */
function ear(): Listener & { readonly heard: string[] } {
  const heard: string[] = [];
  return { heard, deliver: (channel, payload) => heard.push(`${channel}:${payload}`) };
}

describe('channel names', () => {
  it('match resource channels whatever the case, each listener hearing the name as it spelled it', () => {
    const hub = new NotifyHub();
    const a = ear();
    const b = ear();
    hub.listen(a, 'resource_Room-1');
    hub.listen(b, 'RESOURCE_room-1');
    hub.publish('resource_ROOM-1', 'e1');
    expect(a.heard).toEqual(['resource_Room-1:e1']);
    expect(b.heard).toEqual(['RESOURCE_room-1:e1']);
    expect(hub.hasListeners('Resource_Room-1')).toBe(true);
  });

  it('match every other channel exactly: Foo and foo are two channels', () => {
    const hub = new NotifyHub();
    const upper = ear();
    const lower = ear();
    hub.listen(upper, 'Foo');
    hub.listen(lower, 'foo');
    hub.publish('Foo', '1');
    hub.publish('foo', '2');
    hub.publish('FOO', '3');
    expect(upper.heard).toEqual(['Foo:1']);
    expect(lower.heard).toEqual(['foo:2']);
    expect(hub.hasListeners('FOO')).toBe(false);
  });

  it('unlisten as they listen: a resource channel by any spelling, any other only by its own', () => {
    const hub = new NotifyHub();
    const a = ear();
    hub.listen(a, 'resource_Room');
    hub.listen(a, 'Foo');
    hub.unlisten(a, 'RESOURCE_ROOM');
    hub.unlisten(a, 'foo');
    hub.publish('resource_room', 'gone');
    hub.publish('Foo', 'kept');
    expect(a.heard).toEqual(['Foo:kept']);
    expect(hub.hasListeners('resource_room')).toBe(false);
  });
});

describe('listeners', () => {
  it('are counted once however many channels they hear; unlistenAll lets one go everywhere and the hub forgets empty channels', () => {
    const hub = new NotifyHub();
    const a = ear();
    const b = ear();
    expect(hub.hasAnyListener).toBe(false);
    hub.listen(a, 'x');
    hub.listen(a, 'y');
    hub.listen(b, 'y');
    hub.listen(a, 'x'); // again: still one subscription
    expect(hub.listenerCount).toBe(2);
    hub.publish('x', '1');
    expect(a.heard).toEqual(['x:1']);
    hub.unlistenAll(a);
    expect(hub.listenerCount).toBe(1);
    expect(hub.hasListeners('x')).toBe(false);
    expect(hub.hasListeners('y')).toBe(true);
    hub.unlistenAll(b);
    expect(hub.hasAnyListener).toBe(false);
  });

  it('each get every publish at once, in order, whatever another does: one cut off while it is delivered to costs the others nothing', () => {
    const hub = new NotifyHub();
    const first = ear();
    const last = ear();
    // A listener that keeps what it is given and never reads it, until its owner cuts it off
    // from inside a delivery (as a connection does past its queue limit).
    const pending: string[] = [];
    const slow: Listener = {
      deliver: (_channel, payload) => {
        pending.push(payload);
        if (pending.length === 3) hub.unlistenAll(slow);
      },
    };
    hub.listen(first, 'c');
    hub.listen(slow, 'c');
    hub.listen(last, 'c');
    for (let i = 1; i <= 5; i++) {
      hub.publish('c', String(i));
      // Synchronous: delivered before publish returns, no queue in between.
      expect(last.heard.at(-1)).toBe(`c:${i}`);
    }
    expect(pending).toEqual(['1', '2', '3']);
    expect(first.heard).toEqual(['c:1', 'c:2', 'c:3', 'c:4', 'c:5']);
    expect(last.heard).toEqual(first.heard);
    expect(hub.listenerCount).toBe(2);
  });
});
