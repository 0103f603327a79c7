package api

import "github.com/pintu/pintu/controller"

// statusResponse is GET /v1/status: the controller's status and, when
// pintud has a broker, the MQTT link's state, which the controller does not
// know.
type statusResponse struct {
	controller.Status
	MQTT any `json:"mqtt,omitempty"`
}

func (s *Server) withMQTT(st controller.Status) statusResponse {
	r := statusResponse{Status: st}
	if s.opts.MQTT != nil {
		r.MQTT = s.opts.MQTT()
	}
	return r
}
