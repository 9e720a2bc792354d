import { CoreApp, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';

import { DEFAULT_QUERY, GocOptions, GocQuery, ResourceOption } from './types';

export class DataSource extends DataSourceWithBackend<GocQuery, GocOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<GocOptions>) {
    super(instanceSettings);
  }

  getDefaultQuery(_: CoreApp): Partial<GocQuery> {
    return DEFAULT_QUERY;
  }

  /** Dashboard variables ($agency, $period...) are replaced before the backend sees the query. */
  applyTemplateVariables(query: GocQuery, scopedVars: ScopedVars): GocQuery {
    const srv = getTemplateSrv();
    const text = (v?: string) => (v ? srv.replace(v, scopedVars) : v);
    // A multi-value variable expands to several agencies.
    const agencies = query.agencies?.flatMap((a) =>
      srv
        .replace(a, scopedVars, 'csv')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    );
    return {
      ...query,
      indicator: text(query.indicator),
      agencies,
      level: text(query.level),
      kind: text(query.kind),
      period: text(query.period),
      group: text(query.group),
    };
  }

  /** The catalogue's indicators, for the query editor. */
  indicators(): Promise<ResourceOption[]> {
    return this.getResource('indicators');
  }

  /** Agencies that exist today, optionally of some kinds, for the query editor. */
  agencies(kinds?: string[]): Promise<ResourceOption[]> {
    return this.getResource('agencies', { active: 'true', kind: kinds ?? [] });
  }
}
