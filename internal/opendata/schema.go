package opendata

import (
	"strings"
	"time"
)

// field is one Table Schema field (https://specs.frictionlessdata.io/table-schema/).
type field struct {
	Name        string         `json:"name"`
	Title       string         `json:"title,omitempty"`
	Type        string         `json:"type"`
	Format      string         `json:"format,omitempty"`
	Description string         `json:"description,omitempty"`
	Constraints map[string]any `json:"constraints,omitempty"`
}

type foreignKey struct {
	Fields    []string `json:"fields"`
	Reference struct {
		Resource string   `json:"resource"`
		Fields   []string `json:"fields"`
	} `json:"reference"`
}

type schema struct {
	Fields      []field      `json:"fields"`
	PrimaryKey  []string     `json:"primaryKey"`
	ForeignKeys []foreignKey `json:"foreignKeys,omitempty"`
	MissingVals []string     `json:"missingValues"`
}

func fk(col, resource, ref string) foreignKey {
	var k foreignKey
	k.Fields = []string{col}
	k.Reference.Resource, k.Reference.Fields = resource, []string{ref}
	return k
}

func required() map[string]any { return map[string]any{"required": true} }

func enum(vs ...string) map[string]any {
	return map[string]any{"required": true, "enum": vs}
}

var periodPattern = `\d{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?`

func indicatorSchema() schema {
	return schema{Fields: []field{
		{Name: "code", Title: "Mã chỉ tiêu / indicator code", Type: "string", Constraints: map[string]any{"required": true, "unique": true}},
		{Name: "name_vi", Title: "Tên (tiếng Việt)", Type: "string", Constraints: required()},
		{Name: "name_en", Title: "Name (English)", Type: "string", Constraints: required()},
		{Name: "unit", Title: "Đơn vị / unit", Type: "string", Constraints: enum("percent", "count", "rank", "score", "seconds")},
		{Name: "direction", Title: "Chiều tốt / better when", Type: "string", Constraints: enum("higher", "lower")},
		{Name: "periodicity", Title: "Kỳ báo cáo / periodicity", Type: "string", Constraints: enum("yearly", "half-yearly", "quarterly", "monthly")},
		{Name: "aggregation", Title: "Cách tổng hợp / how units roll up", Type: "string", Constraints: enum("ratio", "mean", "weighted_mean", "sum", "none")},
		{Name: "min", Title: "Giá trị nhỏ nhất / lowest valid value", Type: "number"},
		{Name: "max", Title: "Giá trị lớn nhất / highest valid value", Type: "number"},
		{Name: "decimals", Title: "Số chữ số thập phân công bố / decimals published", Type: "integer", Constraints: map[string]any{"minimum": 0}},
		{Name: "pillar", Title: "Trụ cột / pillar", Type: "string"},
	}, PrimaryKey: []string{"code"}, MissingVals: []string{""}}
}

func targetSchema() schema {
	return schema{Fields: []field{
		{Name: "indicator", Type: "string", Constraints: required()},
		{Name: "year", Title: "Năm mục tiêu / target year", Type: "year", Constraints: required()},
		{Name: "level", Title: "Cấp / level", Type: "string", Constraints: enum("national", "ministry", "province", "district", "commune", "all")},
		{Name: "value", Title: "Mục tiêu / target", Type: "number", Constraints: required()},
		{Name: "clause", Title: "Điều khoản / clause of the Resolution", Type: "string"},
	}, PrimaryKey: []string{"indicator", "year", "level"}, ForeignKeys: []foreignKey{fk("indicator", "indicators", "code")}, MissingVals: []string{""}}
}

func agencySchema() schema {
	return schema{Fields: []field{
		{Name: "code", Title: "Mã đơn vị / agency code", Type: "string", Constraints: map[string]any{"required": true, "unique": true}},
		{Name: "name_vi", Title: "Tên (tiếng Việt)", Type: "string", Constraints: required()},
		{Name: "name_en", Title: "Name (English)", Type: "string", Constraints: required()},
		{Name: "kind", Title: "Loại / kind", Type: "string", Constraints: enum("national", "ministry", "ministerial_agency", "government_agency", "province", "district", "commune")},
		{Name: "parent", Title: "Đơn vị cấp trên / parent", Type: "string"},
		{Name: "valid_from", Title: "Hoạt động từ / active from", Type: "date", Format: "default"},
		{Name: "valid_to", Title: "Hoạt động đến trước / active until (exclusive)", Type: "date", Format: "default"},
		{Name: "gso_code", Title: "Mã thống kê / GSO code", Type: "string"},
		{Name: "portal", Title: "Cổng thông tin / portal", Type: "string", Format: "uri"},
	}, PrimaryKey: []string{"code"}, ForeignKeys: []foreignKey{fk("parent", "", "code")}, MissingVals: []string{""}}
}

func mergerSchema() schema {
	return schema{Fields: []field{
		{Name: "predecessor", Title: "Đơn vị cũ / merged unit", Type: "string", Constraints: required()},
		{Name: "successor", Title: "Đơn vị mới / unit it merged into", Type: "string", Constraints: required()},
		{Name: "date", Title: "Ngày sáp nhập / effective date", Type: "date", Format: "default"},
	}, PrimaryKey: []string{"predecessor", "successor"},
		ForeignKeys: []foreignKey{fk("predecessor", "agencies", "code"), fk("successor", "agencies", "code")}, MissingVals: []string{""}}
}

func observationSchema() schema {
	return schema{Fields: []field{
		{Name: "indicator", Type: "string", Constraints: required()},
		{Name: "agency", Type: "string", Constraints: required()},
		{Name: "period", Title: "Kỳ / period", Type: "string", Description: "2025, 2025-H1, 2025-Q3 or 2025-09", Constraints: map[string]any{"required": true, "pattern": periodPattern}},
		{Name: "period_start", Title: "Ngày đầu kỳ / first day", Type: "date", Format: "default", Constraints: required()},
		{Name: "period_end", Title: "Ngày cuối kỳ / last day", Type: "date", Format: "default", Constraints: required()},
		{Name: "value", Title: "Giá trị / value", Type: "number", Description: "At the indicator's published precision, in the unit of the unit column", Constraints: required()},
		{Name: "unit", Title: "Đơn vị / unit", Type: "string", Constraints: enum("percent", "count", "rank", "score", "seconds")},
		{Name: "numerator", Title: "Tử số / numerator", Type: "number"},
		{Name: "denominator", Title: "Mẫu số / denominator", Type: "number"},
		{Name: "source", Title: "Nguồn / source", Type: "string", Constraints: enum("probe", "feed", "submission", "computed", "demo")},
		{Name: "revision", Title: "Lần sửa / revision", Type: "integer", Constraints: map[string]any{"required": true, "minimum": 1}},
		{Name: "received_at", Title: "Nhận lúc / received at (UTC)", Type: "datetime", Format: "default", Constraints: required()},
	}, PrimaryKey: []string{"indicator", "agency", "period"},
		ForeignKeys: []foreignKey{fk("indicator", "indicators", "code"), fk("agency", "agencies", "code")}, MissingVals: []string{""}}
}

func names(s schema) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

func indicatorFields() []string   { return names(indicatorSchema()) }
func targetFields() []string      { return names(targetSchema()) }
func agencyFields() []string      { return names(agencySchema()) }
func mergerFields() []string      { return names(mergerSchema()) }
func observationFields() []string { return names(observationSchema()) }

type resource struct {
	Name        string    `json:"name"`
	Title       string    `json:"title,omitempty"`
	Path        string    `json:"path"`
	Profile     string    `json:"profile"`
	Format      string    `json:"format"`
	MediaType   string    `json:"mediatype"`
	Encoding    string    `json:"encoding"`
	Schema      *schema   `json:"schema,omitempty"`
	Licenses    []Licence `json:"licenses"`
	Description string    `json:"description,omitempty"`
}

// descriptor is datapackage.json; prefix is where the data files are relative to it.
func (b *builder) descriptor(rel Release, prefix string) map[string]any {
	lic := []Licence{b.o.Licence}
	var res []resource
	add := func(name, file, title string, s schema) {
		sc := s
		res = append(res,
			resource{Name: name, Title: title, Path: prefix + file + ".csv", Profile: "tabular-data-resource", Format: "csv", MediaType: "text/csv", Encoding: "utf-8", Schema: &sc, Licenses: lic},
			resource{Name: name + "-json", Title: title + " (JSON)", Path: prefix + file + ".json", Profile: "data-resource", Format: "json", MediaType: "application/json", Encoding: "utf-8", Licenses: lic,
				Description: "Cùng dữ liệu, dạng JSON: {licenses, data: [ {cột: giá trị} ]} / the same rows as JSON: {licenses, data: [ {column: value} ]}"})
	}
	add("indicators", "indicators", "Danh mục chỉ tiêu / indicator catalogue", indicatorSchema())
	add("targets", "targets", "Mục tiêu 2025, 2030 / targets", targetSchema())
	add("agencies", "agencies", "Danh sách đơn vị / agency registry", agencySchema())
	add("mergers", "mergers", "Sáp nhập 2025 / merger lineage", mergerSchema())
	add("observations", "observations", "Số liệu đã duyệt / approved observations", observationSchema())
	for _, code := range b.perIndicator {
		add("observations-"+strings.ToLower(code), "indicators/"+code, "Số liệu đã duyệt / approved observations: "+code, observationSchema())
	}
	return map[string]any{
		"profile":     "data-package", // tabular CSVs beside their JSON twins, which are not tables
		"name":        "goc-open-data",
		"id":          "goc-open-data-" + rel.Version,
		"title":       "Số liệu Chính phủ số đã duyệt / Approved digital-government figures (G-OC)",
		"description": "Chỉ tiêu, mục tiêu, đơn vị (có sáp nhập) và mọi số liệu đã duyệt của hệ thống giám sát quốc gia về Chính phủ số. / Indicators, targets, agencies (with mergers) and every approved figure of the national digital-government monitoring system.",
		"version":     rel.Version,
		"hash":        rel.Hash,
		"created":     b.o.Now.UTC().Format(time.RFC3339),
		"licenses":    lic,
		"sources": []map[string]string{
			{"title": "Báo cáo của bộ, ngành, địa phương qua G-OC / submissions of ministries and provinces through G-OC"},
			{"title": "Kiểm tra cổng thông tin tự động của G-OC / G-OC's automatic portal probes"},
		},
		"contributors": []map[string]string{
			{"title": "Các bộ, ngành, địa phương báo cáo số liệu / the reporting ministries and provinces", "role": "author"},
			{"title": "Đơn vị điều phối duyệt số liệu / the coordinating ministry that approves figures", "role": "publisher"},
		},
		"keywords":  []string{"chính phủ số", "digital government", "Vietnam", "open data"},
		"resources": res,
	}
}
