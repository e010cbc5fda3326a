// Hands WeChat's privacy-authorization requests to whichever privacy popup is on screen.
export type PrivacyResolve = (result: { event: 'agree' | 'disagree'; buttonId?: string }) => void;
type Listener = (resolve: PrivacyResolve) => void;

const listeners: Listener[] = [];
let pending: PrivacyResolve | null = null;

export function onPrivacyRequest(listener: Listener): () => void {
  listeners.push(listener);
  if (pending) listener(pending);
  return () => {
    const i = listeners.indexOf(listener);
    if (i >= 0) listeners.splice(i, 1);
  };
}

// Called from wx.onNeedPrivacyAuthorization in app.ts.
export function requestPrivacyAuthorization(resolve: PrivacyResolve): void {
  pending = resolve;
  const top = listeners[listeners.length - 1];
  if (top) top(resolve);
}

export function settlePrivacyRequest(event: 'agree' | 'disagree', buttonId?: string): void {
  const resolve = pending;
  pending = null;
  if (resolve) resolve(event === 'agree' ? { event, buttonId } : { event });
}
