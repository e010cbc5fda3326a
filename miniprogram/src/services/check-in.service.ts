import type { CheckInMonth, CheckInResult } from '../models/api-types';
import { request } from './request';

export function checkIn(): Promise<CheckInResult> {
  return request<CheckInResult>('/api/mp/check-ins', { method: 'POST', data: {} });
}

export function fetchCheckInMonth(month: string): Promise<CheckInMonth> {
  return request<CheckInMonth>(`/api/mp/check-ins?month=${encodeURIComponent(month)}`);
}

export function makeUpCheckIn(date: string): Promise<CheckInResult> {
  return request<CheckInResult>('/api/mp/check-ins/make-up', { method: 'POST', data: { date } });
}

export function saveReminderConsent(accepted: boolean): Promise<void> {
  return request<void>('/api/mp/check-ins/reminder', { method: 'POST', data: { accepted } });
}
