import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { InlineField, Input, SecretInput } from '@grafana/ui';

import { GocOptions, GocSecureJsonData } from '../types';

type Props = DataSourcePluginOptionsEditorProps<GocOptions, GocSecureJsonData>;

/** G-OC's URL, the token (kept in secure JSON data, only the backend reads it) and a timeout. */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields, secureJsonData } = options;

  const onURL = (e: ChangeEvent<HTMLInputElement>) => onOptionsChange({ ...options, url: e.target.value });
  const onTimeout = (e: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({
      ...options,
      jsonData: { ...jsonData, timeoutSeconds: parseInt(e.target.value, 10) || undefined },
    });
  const onToken = (e: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, token: e.target.value } });
  const onResetToken = () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, token: false },
      secureJsonData: { ...secureJsonData, token: '' },
    });

  return (
    <>
      <InlineField
        label="Địa chỉ G-OC / URL"
        labelWidth={24}
        tooltip="Địa chỉ API của G-OC mà máy chủ Grafana truy cập được / G-OC's address as the Grafana server reaches it"
      >
        <Input id="goc-url" value={options.url} onChange={onURL} placeholder="http://127.0.0.1:8080" width={48} />
      </InlineField>
      <InlineField
        label="Mã truy cập / token"
        labelWidth={24}
        tooltip="Mã truy cập G-OC (goc_...); không bắt buộc khi chỉ đọc / a G-OC token; optional for reading"
      >
        <SecretInput
          id="goc-token"
          isConfigured={Boolean(secureJsonFields?.token)}
          value={secureJsonData?.token ?? ''}
          placeholder="goc_..."
          width={48}
          onReset={onResetToken}
          onChange={onToken}
        />
      </InlineField>
      <InlineField label="Thời gian chờ (giây) / timeout (s)" labelWidth={24}>
        <Input
          id="goc-timeout"
          type="number"
          value={jsonData.timeoutSeconds ?? ''}
          placeholder="30"
          width={12}
          onChange={onTimeout}
        />
      </InlineField>
    </>
  );
}
