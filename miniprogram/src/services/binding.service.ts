import type { BindingResult } from '../models/api-types';
import { request } from './request';

export function bindTaobaoOrder(orderNo: string, phoneLast4: string): Promise<BindingResult> {
  return request<BindingResult>('/api/mp/bindings', { method: 'POST', data: { orderNo, phoneLast4 } });
}
