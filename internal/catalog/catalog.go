// Package catalog is the service catalog of the "1+11" center: centers, the
// eleven back-office sectors (板块), and the matters (事项) with their
// versioned service guides (办事指南), plus search in Chinese words, full
// pinyin and pinyin initials.
package catalog

import "time"

// CenterKind tells a county center from a township convenience center.
type CenterKind string

// Center kinds.
const (
	// CenterCounty is the county government service center (政务服务中心).
	CenterCounty CenterKind = "county"
	// CenterTownship is a township convenience service center (便民服务中心).
	CenterTownship CenterKind = "township"
)

// Center is one service center. A county center and its township centers
// share one deployment; every other record is scoped by center code.
type Center struct {
	Code string     `json:"code"`
	Name string     `json:"name"`
	Kind CenterKind `json:"kind"`
	// Parent is the code of the county center a township center belongs to.
	Parent  string `json:"parent,omitempty"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
	// Hours are the opening hours as shown to citizens, e.g. "工作日 8:30-12:00 13:30-17:30".
	Hours string `json:"hours"`
	// TimeZone is an IANA zone name; Chinese centers use Asia/Shanghai.
	TimeZone string `json:"time_zone"`
}

// Sector is one of the back-office sectors (板块) at a center.
type Sector struct {
	Center string `json:"center"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	// Order is the position on the lobby screens and kiosk, ascending.
	Order       int    `json:"order"`
	Description string `json:"description,omitempty"`
}

// Kind is the legal kind of a matter.
type Kind string

// Matter kinds used in the published lists (清单).
const (
	KindPermit       Kind = "administrative_permit"       // 行政许可
	KindConfirmation Kind = "administrative_confirmation" // 行政确认
	KindPayment      Kind = "administrative_payment"      // 行政给付
	KindOtherPower   Kind = "other_administrative_power"  // 其他行政权力
	KindPublic       Kind = "public_service"              // 公共服务
)

// Label returns the Chinese name of the kind, or "" for an unknown kind.
func (k Kind) Label() string {
	switch k {
	case KindPermit:
		return "行政许可"
	case KindConfirmation:
		return "行政确认"
	case KindPayment:
		return "行政给付"
	case KindOtherPower:
		return "其他行政权力"
	case KindPublic:
		return "公共服务"
	}
	return ""
}

// Channel is a way a citizen can apply for a matter.
type Channel string

// Channels.
const (
	ChannelOnline Channel = "online" // mini-program
	ChannelKiosk  Channel = "kiosk"  // lobby self-service kiosk
	ChannelWindow Channel = "window" // comprehensive acceptance window
)

// Delivery is a way the result (certificate) reaches the citizen.
type Delivery string

// Delivery options.
const (
	DeliveryWindow     Delivery = "window"      // 统一窗口出件
	DeliveryKioskPrint Delivery = "kiosk_print" // printed at a kiosk
	DeliveryExpress    Delivery = "express"     // 证照免费寄送
)

// Status is the lifecycle state of a matter.
type Status string

// Matter statuses.
const (
	StatusActive  Status = "active"
	StatusRetired Status = "retired"
)

// Material is one required or optional application material (申请材料).
type Material struct {
	Name string `json:"name"`
	// Originals and Copies are how many originals and photocopies to bring.
	Originals int  `json:"originals"`
	Copies    int  `json:"copies"`
	Required  bool `json:"required"`
	// Pendable means 容缺受理 may accept the case with this material missing,
	// to be supplied later. Only non-essential materials may be pendable.
	Pendable bool `json:"pendable"`
	// ECertType names the e-certificate type (电子证照) that can replace the
	// material, so the citizen need not bring it; empty if none.
	ECertType string `json:"ecert_type,omitempty"`
	// Note is shown under the material, e.g. where to get it.
	Note string `json:"note,omitempty"`
}

// Step is one step of the process (办理流程).
type Step struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Matter is a service matter with its guide, at one version.
type Matter struct {
	// Code is the matter's code, unique in the deployment.
	Code   string `json:"code"`
	Center string `json:"center"`
	Sector string `json:"sector"`
	Name   string `json:"name"`
	Kind   Kind   `json:"kind"`
	// Authority is the approving authority (审批机关 / 实施机关).
	Authority string `json:"authority"`
	// Result is what the citizen gets, e.g. "营业执照", "不动产权证书".
	Result string `json:"result,omitempty"`
	// Certificate is the e-certificate type (电子证照) a concluded case
	// issues, named as materials name it in ecert_type, e.g. "营业执照";
	// empty when the result is not a certificate (a payment, a record).
	Certificate string `json:"certificate,omitempty"`
	// Keywords are other words citizens use for this matter, for search.
	Keywords   []string   `json:"keywords,omitempty"`
	LegalBasis []string   `json:"legal_basis"`
	Conditions string     `json:"conditions,omitempty"`
	Materials  []Material `json:"materials"`
	Steps      []Step     `json:"steps"`
	// StatutoryDays and PromisedDays are time limits in working days;
	// 0 promised days means done on the spot (即办).
	StatutoryDays int `json:"statutory_days"`
	PromisedDays  int `json:"promised_days"`
	// GreenDays is the green channel's own promised limit for major
	// projects (绿色通道); 0 means the ordinary promise.
	GreenDays int `json:"green_days,omitempty"`
	// FeeFen is the fee in fen (0 = free); FeeStandard and FeeBasis describe it.
	FeeFen      int64  `json:"fee_fen"`
	FeeStandard string `json:"fee_standard"`
	FeeBasis    string `json:"fee_basis,omitempty"`
	// ConsultPhone and ComplaintPhone are the consultation and
	// complaint/supervision (投诉监督) telephone numbers.
	ConsultPhone   string `json:"consult_phone"`
	ComplaintPhone string `json:"complaint_phone"`
	// Visits is how many trips to the center are needed: 0 or 1.
	Visits       int        `json:"visits"`
	Channels     []Channel  `json:"channels"`
	Delivery     []Delivery `json:"delivery"`
	GreenChannel bool       `json:"green_channel"`
	Status       Status     `json:"status"`
	// Version starts at 1 and grows by one with every edit; cases record the
	// version in force when they were submitted.
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// HasChannel reports whether the matter can be applied for through ch.
func (m *Matter) HasChannel(ch Channel) bool {
	for _, c := range m.Channels {
		if c == ch {
			return true
		}
	}
	return false
}
