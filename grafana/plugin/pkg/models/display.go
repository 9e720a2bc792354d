package models

// Display names the plugin gives the fields that the generated dashboards refer to.
// Grafana matches field overrides and a stat panel's fields by display name, so the
// plugin and the dashboards share these.
const (
	DisplayIndicatorCode   = "Mã chỉ tiêu / indicator"
	DisplayAgencyCode      = "Mã đơn vị / agency"
	DisplayAgenciesMissing = "Đơn vị thiếu số liệu / agencies missing"
	DisplayUp              = "Hoạt động / up"
	DisplayPortals         = "Cổng được đo / portals probed"
	DisplayDown            = "Không truy cập được / down"
	DisplayUpShare         = "Tỷ lệ hoạt động / share up"
	DisplayReportingRate   = "Tỷ lệ nộp / reporting rate"
	DisplayOnTimeRate      = "Tỷ lệ đúng hạn / on-time rate"
	DisplayLate            = "Trễ hạn / late"
	DisplayMissing         = "Chưa nộp / missing"
)
