package web

import (
	"time"

	"github.com/banhao/banhao/internal/review"
)

// EvaluationView is an evaluation as its citizen and staff see it. The
// comment is plain text: JSON escapes it, and pages set it as text.
type EvaluationView struct {
	ID          string   `json:"id"`
	EventKind   string   `json:"event_kind"`
	EventID     string   `json:"event_id"`
	Level       int      `json:"level"`
	LevelLabel  string   `json:"level_label"`
	Comment     string   `json:"comment"`
	Tags        []string `json:"tags"`
	Channel     string   `json:"channel"`
	At          string   `json:"at"`
	ReRatedFrom int      `json:"re_rated_from,omitempty"`
	// Rectification is the task a bad review opened, if any.
	Rectification string `json:"rectification,omitempty"`
}

// RFC3339China formats t in China's zone (+08:00), as the API shows times.
func RFC3339China(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
}

// NewEvaluationView renders an evaluation.
func NewEvaluationView(e review.Evaluation) EvaluationView {
	tags := e.Tags
	if tags == nil {
		tags = []string{}
	}
	return EvaluationView{ID: e.ID, EventKind: string(e.EventKind), EventID: e.EventID, Level: e.Level,
		LevelLabel: review.LevelLabel(e.Level), Comment: e.Comment, Tags: tags, Channel: string(e.Channel),
		At: RFC3339China(e.At), ReRatedFrom: e.ReRatedFrom, Rectification: e.Task}
}

// RatingRequest is the body of a rating from any channel.
type RatingRequest struct {
	EventKind string   `json:"event_kind"`
	EventID   string   `json:"event_id"`
	Level     int      `json:"level"`
	Comment   string   `json:"comment"`
	Tags      []string `json:"tags"`
	// Window is set by a window's evaluation pad instead of the event.
	Window string `json:"window"`
}

// Rating returns the request as a review.Rating on channel ch.
func (r RatingRequest) Rating(ch review.Channel) review.Rating {
	return review.Rating{Kind: review.EventKind(r.EventKind), EventID: r.EventID, Level: r.Level,
		Comment: r.Comment, Tags: r.Tags, Channel: ch}
}
