import React, { ChangeEvent, useEffect, useMemo, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineSwitch, Input, MultiSelect, Select, Stack } from '@grafana/ui';

import { DataSource } from '../datasource';
import { GocOptions, GocQuery, KINDS, LEVELS, QUERY_TYPES, QueryType, ResourceOption } from '../types';

type Props = QueryEditorProps<DataSource, GocQuery, GocOptions>;

const EVERY_AGENCY: SelectableValue<string> = { value: '*', label: 'Mọi đơn vị / every agency' };
const YEARS = [2025, 2030].map((y) => ({ value: y, label: String(y) }));

function toOptions(list: ResourceOption[]): Array<SelectableValue<string>> {
  return list.map((o) => ({ value: o.value, label: o.label, description: o.description }));
}

/** Dropdowns for every query type, filled from the backend's indicator and agency lists. */
export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const [indicators, setIndicators] = useState<ResourceOption[]>([]);
  const [agencies, setAgencies] = useState<ResourceOption[]>([]);
  const [loadError, setLoadError] = useState<string>('');

  useEffect(() => {
    let live = true;
    Promise.all([datasource.indicators(), datasource.agencies()])
      .then(([inds, ags]) => {
        if (live) {
          setIndicators(inds);
          setAgencies(ags);
        }
      })
      .catch((err) => live && setLoadError(err?.data?.error ?? err?.message ?? String(err)));
    return () => {
      live = false;
    };
  }, [datasource]);

  const type: QueryType = query.queryType ?? 'series';
  const update = (patch: Partial<GocQuery>) => {
    onChange({ ...query, ...patch });
    onRunQuery();
  };

  const agencyOptions = useMemo(() => {
    const opts = toOptions(agencies);
    // Keep values typed by hand or from variables ($agency) selectable.
    for (const a of query.agencies ?? []) {
      if (!opts.some((o) => o.value === a) && a !== '*') {
        opts.unshift({ value: a, label: a });
      }
    }
    return type === 'progress' ? [EVERY_AGENCY, ...opts] : opts;
  }, [agencies, query.agencies, type]);

  return (
    <Stack direction="column" gap={1}>
      <Stack gap={1} wrap="wrap">
        <InlineField label="Loại / type" labelWidth={14}>
          <Select
            inputId="goc-query-type"
            width={36}
            options={QUERY_TYPES}
            value={type}
            onChange={(v) => update({ queryType: v.value as QueryType })}
          />
        </InlineField>
        {(type === 'series' || type === 'progress') && (
          <InlineField label="Chỉ tiêu / indicator" labelWidth={20} invalid={!!loadError} error={loadError}>
            <Select
              inputId="goc-indicator"
              width={60}
              options={toOptions(indicators)}
              value={query.indicator ?? null}
              isClearable={type === 'progress'}
              allowCustomValue
              placeholder={type === 'progress' ? 'Mọi chỉ tiêu / every indicator' : 'Chọn chỉ tiêu / choose'}
              onChange={(v) => update({ indicator: v?.value })}
            />
          </InlineField>
        )}
      </Stack>
      {(type === 'series' || type === 'progress') && (
        <Stack gap={1} wrap="wrap">
          <InlineField label="Đơn vị / agencies" labelWidth={14} tooltip="Bỏ trống = cả nước / empty = the country">
            <MultiSelect
              inputId="goc-agencies"
              width={60}
              options={agencyOptions}
              value={query.agencies ?? []}
              allowCustomValue
              placeholder="Cả nước / the country"
              onChange={(vs) => update({ agencies: vs.map((v) => v.value!).filter(Boolean) })}
            />
          </InlineField>
          <InlineField label="Cấp / level" labelWidth={10}>
            <Select
              inputId="goc-level"
              width={24}
              options={LEVELS}
              value={query.level ?? null}
              isClearable
              placeholder="Cấp của đơn vị / own"
              onChange={(v) => update({ level: v?.value })}
            />
          </InlineField>
          {type === 'series' && (
            <InlineField label="Ẩn mục tiêu / hide targets" labelWidth={24} tooltip="Cho biểu đồ đồng hồ / for gauges">
              <InlineSwitch
                value={!!query.hideTargets}
                onChange={(e: React.FormEvent<HTMLInputElement>) => update({ hideTargets: e.currentTarget.checked })}
              />
            </InlineField>
          )}
          {type === 'progress' && (
            <>
              <InlineField label="Năm mục tiêu / year" labelWidth={20}>
                <Select
                  inputId="goc-year"
                  width={12}
                  options={YEARS}
                  value={query.year ?? 2025}
                  onChange={(v) => update({ year: v.value })}
                />
              </InlineField>
              {query.agencies?.includes('*') && (
                <InlineField label="Loại đơn vị / kind" labelWidth={18}>
                  <Select
                    inputId="goc-kind"
                    width={30}
                    options={KINDS}
                    value={query.kind ?? null}
                    isClearable
                    onChange={(v) => update({ kind: v?.value })}
                  />
                </InlineField>
              )}
            </>
          )}
        </Stack>
      )}
      {(type === 'probes' || type === 'completeness') && (
        <Stack gap={1} wrap="wrap">
          <InlineField
            label="Đơn vị / agency"
            labelWidth={14}
            tooltip="Đơn vị và các đơn vị trực thuộc; trống = tất cả / an agency and those below it; empty = all"
          >
            <Select
              inputId="goc-agency"
              width={48}
              options={toOptions(agencies)}
              value={query.agencies?.[0] ?? null}
              isClearable
              allowCustomValue
              onChange={(v) => update({ agencies: v?.value ? [v.value] : [] })}
            />
          </InlineField>
          <InlineField label="Dạng / view" labelWidth={10}>
            <Select
              inputId="goc-view"
              width={30}
              options={[
                { value: '', label: 'Từng dòng / one row each' },
                { value: 'summary', label: 'Tổng hợp / summary counts' },
              ]}
              value={query.view ?? ''}
              onChange={(v) => update({ view: v.value === 'summary' ? 'summary' : undefined })}
            />
          </InlineField>
        </Stack>
      )}
      {(type === 'ranking' || type === 'completeness') && (
        <Stack gap={1} wrap="wrap">
          <InlineField
            label="Kỳ / period"
            labelWidth={14}
            tooltip="2025, 2025-H1, 2025-Q3, 2025-09, hoặc yearly/quarterly/monthly = kỳ gần nhất đã kết thúc / or yearly, quarterly, monthly for the last ended one"
          >
            <Input
              id="goc-period"
              width={20}
              value={query.period ?? ''}
              placeholder={type === 'ranking' ? 'yearly' : 'quarterly'}
              onChange={(e: ChangeEvent<HTMLInputElement>) => onChange({ ...query, period: e.target.value })}
              onBlur={onRunQuery}
            />
          </InlineField>
          {type === 'ranking' && (
            <InlineField label="Nhóm / group" labelWidth={14}>
              <Select
                inputId="goc-group"
                width={30}
                options={[
                  { value: 'provinces', label: 'Tỉnh / provinces' },
                  { value: 'ministries', label: 'Bộ, ngành / ministries' },
                  { value: 'government_agencies', label: 'Cơ quan thuộc Chính phủ / Government agencies' },
                ]}
                value={query.group ?? null}
                allowCustomValue
                isClearable
                onChange={(v) => update({ group: v?.value })}
              />
            </InlineField>
          )}
        </Stack>
      )}
    </Stack>
  );
}
