import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/** The query types the backend answers (grafana/plugin/pkg/models). */
export type QueryType = 'series' | 'progress' | 'ranking' | 'probes' | 'completeness';

export const QUERY_TYPES: Array<{ value: QueryType; label: string; description: string }> = [
  {
    value: 'series',
    label: 'Chuỗi chỉ tiêu / indicator series',
    description: 'values over time with the 2025 and 2030 targets',
  },
  {
    value: 'progress',
    label: 'Bảng tiến độ / progress table',
    description: 'latest value, target, gap, attainment, status',
  },
  { value: 'ranking', label: 'Xếp hạng / ranking', description: 'composite scores and ranks of a peer group' },
  {
    value: 'probes',
    label: 'Cổng thông tin / portal probes',
    description: 'up, latency and certificate expiry of every portal',
  },
  {
    value: 'completeness',
    label: 'Nộp báo cáo / completeness',
    description: 'who has submitted, who is late, who is missing',
  },
];

/** A panel target: the JSON model the backend's models.Query reads. */
export interface GocQuery extends DataQuery {
  queryType?: QueryType;
  indicator?: string;
  agencies?: string[];
  level?: string;
  kind?: string;
  year?: number;
  period?: string;
  group?: string;
  view?: '' | 'summary';
  hideTargets?: boolean;
}

export const DEFAULT_QUERY: Partial<GocQuery> = {
  queryType: 'series',
};

/** Settings stored in jsonData (the G-OC URL is Grafana's own url field). */
export interface GocOptions extends DataSourceJsonData {
  timeoutSeconds?: number;
}

/** Settings only the backend sees. */
export interface GocSecureJsonData {
  token?: string;
}

/** One dropdown entry served by the backend's CallResource (indicators, agencies). */
export interface ResourceOption {
  value: string;
  label: string;
  description?: string;
  kind?: string;
  levels?: string[];
  targetYears?: number[];
}

export const LEVELS = [
  { value: 'national', label: 'Quốc gia / national' },
  { value: 'ministry', label: 'Bộ, ngành / ministry' },
  { value: 'province', label: 'Tỉnh / province' },
  { value: 'district', label: 'Huyện / district' },
  { value: 'commune', label: 'Xã / commune' },
];

export const KINDS = [
  { value: 'province', label: 'Tỉnh / province' },
  { value: 'ministry', label: 'Bộ / ministry' },
  { value: 'ministerial_agency', label: 'Cơ quan ngang bộ / ministerial-level agency' },
  { value: 'government_agency', label: 'Cơ quan thuộc Chính phủ / Government agency' },
  { value: 'district', label: 'Huyện / district' },
  { value: 'commune', label: 'Xã / commune' },
];
