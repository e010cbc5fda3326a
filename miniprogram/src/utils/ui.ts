import { errorMessage } from '../services/request';

export function showError(err: unknown): void {
  wx.showToast({ icon: 'none', title: errorMessage(err), duration: 2500 });
}

export function showSuccess(title: string): void {
  wx.showToast({ icon: 'none', title, duration: 2000 });
}

export function confirm(title: string, content: string, confirmText = '确定'): Promise<boolean> {
  return new Promise((resolve) => {
    wx.showModal({ title, content, confirmText, cancelText: '取消', success: (res) => resolve(res.confirm), fail: () => resolve(false) });
  });
}

// Current Shanghai month 'YYYY-MM' by the device clock; the server's answer carries the authoritative today.
export function currentShanghaiMonth(): string {
  const d = new Date(Date.now() + 8 * 3600_000);
  const m = d.getUTCMonth() + 1;
  return `${d.getUTCFullYear()}-${m < 10 ? '0' : ''}${m}`;
}
