package awsfake

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// el writes <tag>value</tag>, escaped; nothing for an empty value.
func el(b *bytes.Buffer, tag, value string) {
	if value == "" {
		return
	}
	fmt.Fprintf(b, "<%s>", tag)
	_ = xml.EscapeText(b, []byte(value))
	fmt.Fprintf(b, "</%s>", tag)
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func parseForm(r *http.Request) url.Values {
	if err := r.ParseForm(); err != nil {
		return url.Values{}
	}
	return r.PostForm
}

// listParam collects an awsquery list: Name.1, Name.2, ... (ec2query) or
// Name.member.1, ... (awsquery).
func listParam(form url.Values, name string) []string {
	type item struct {
		n int
		v string
	}
	var items []item
	for k, vs := range form {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok || len(vs) == 0 {
			continue
		}
		rest = strings.TrimPrefix(rest, "member.")
		n, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		items = append(items, item{n, vs[0]})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// queryError writes an awsquery error (CloudFormation, RDS).
func queryError(w http.ResponseWriter, status int, code, msg string) {
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>`)
	el(&b, "Code", code)
	el(&b, "Message", msg)
	b.WriteString(`</Error>`)
	el(&b, "RequestId", requestID())
	b.WriteString(`</ErrorResponse>`)
	writeXML(w, status, b.Bytes())
}

// queryFault answers a faulted step in awsquery; gone is the service's
// not-found answer. It reports false for a step without a fault.
func queryFault(w http.ResponseWriter, st Step, gone func()) bool {
	setRetryAfter(w, st.RetryAfter)
	switch st.Fault {
	case None:
		return false
	case Gone:
		gone()
	case Throttle:
		queryError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
	case Unavailable:
		queryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
	case Drop:
		drop(w)
	case Denied:
		queryError(w, http.StatusForbidden, "AccessDenied", "User is not authorized to perform this action")
	case Invalid:
		queryError(w, http.StatusBadRequest, "ValidationError", "1 validation error detected")
	}
	return true
}

func (s *Server) cloudFormation(w http.ResponseWriter, r *http.Request) {
	form := parseForm(r)
	switch form.Get("Action") {
	case "DescribeStacks":
		name := form.Get("StackName")
		var ids []string
		if name != "" {
			ids = []string{name}
		}
		a := s.next(Stack, ids)
		if queryFault(w, a.fault, func() {
			queryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Stack with id %s does not exist", a.faultID))
		}) {
			return
		}
		var b bytes.Buffer
		b.WriteString(`<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks>`)
		for i, id := range a.ids {
			b.WriteString("<member>")
			el(&b, "StackId", "arn:aws:cloudformation:us-east-1:123456789012:stack/"+id+"/0a1b2c3d")
			el(&b, "StackName", id)
			el(&b, "CreationTime", "2024-01-01T00:00:00Z")
			el(&b, "StackStatus", a.steps[i].Status)
			el(&b, "StackStatusReason", a.steps[i].Reason)
			b.WriteString("</member>")
		}
		b.WriteString(`</Stacks></DescribeStacksResult><ResponseMetadata>`)
		el(&b, "RequestId", requestID())
		b.WriteString(`</ResponseMetadata></DescribeStacksResponse>`)
		writeXML(w, http.StatusOK, b.Bytes())
	case "DescribeChangeSet":
		name := form.Get("ChangeSetName")
		a := s.next(ChangeSet, []string{name})
		if queryFault(w, a.fault, func() {
			queryError(w, http.StatusNotFound, "ChangeSetNotFound", fmt.Sprintf("ChangeSet [%s] does not exist", name))
		}) {
			return
		}
		st := a.steps[0]
		var b bytes.Buffer
		b.WriteString(`<DescribeChangeSetResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeChangeSetResult>`)
		el(&b, "ChangeSetName", name)
		el(&b, "StackName", form.Get("StackName"))
		el(&b, "Status", st.Status)
		el(&b, "StatusReason", st.Reason)
		el(&b, "ExecutionStatus", attr(st, "ExecutionStatus", "UNAVAILABLE"))
		b.WriteString(`</DescribeChangeSetResult><ResponseMetadata>`)
		el(&b, "RequestId", requestID())
		b.WriteString(`</ResponseMetadata></DescribeChangeSetResponse>`)
		writeXML(w, http.StatusOK, b.Bytes())
	case "CancelUpdateStack":
		name := form.Get("StackName")
		if !s.cancel(name) {
			queryError(w, http.StatusBadRequest, "ValidationError",
				fmt.Sprintf("Stack:%s is in a state that CancelUpdateStack cannot be called from", name))
			return
		}
		var b bytes.Buffer
		b.WriteString(`<CancelUpdateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ResponseMetadata>`)
		el(&b, "RequestId", requestID())
		b.WriteString(`</ResponseMetadata></CancelUpdateStackResponse>`)
		writeXML(w, http.StatusOK, b.Bytes())
	default:
		queryError(w, http.StatusBadRequest, "InvalidAction", "action not faked")
	}
}

func (s *Server) rds(w http.ResponseWriter, r *http.Request) {
	form := parseForm(r)
	if form.Get("Action") != "DescribeDBInstances" {
		queryError(w, http.StatusBadRequest, "InvalidAction", "action not faked")
		return
	}
	var ids []string
	if id := form.Get("DBInstanceIdentifier"); id != "" {
		ids = []string{id}
	}
	a := s.next(DBInstance, ids)
	if queryFault(w, a.fault, func() {
		queryError(w, http.StatusNotFound, "DBInstanceNotFound", fmt.Sprintf("DBInstance %s not found.", a.faultID))
	}) {
		return
	}
	var b bytes.Buffer
	b.WriteString(`<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances>`)
	for i, id := range a.ids {
		b.WriteString("<DBInstance>")
		el(&b, "DBInstanceIdentifier", id)
		el(&b, "DBInstanceStatus", a.steps[i].Status)
		if a.steps[i].Reason != "" {
			b.WriteString("<StatusInfos><DBInstanceStatusInfo><StatusType>read replication</StatusType>")
			el(&b, "Message", a.steps[i].Reason)
			b.WriteString("</DBInstanceStatusInfo></StatusInfos>")
		}
		b.WriteString("</DBInstance>")
	}
	b.WriteString(`</DBInstances></DescribeDBInstancesResult><ResponseMetadata>`)
	el(&b, "RequestId", requestID())
	b.WriteString(`</ResponseMetadata></DescribeDBInstancesResponse>`)
	writeXML(w, http.StatusOK, b.Bytes())
}

// ec2Error writes an ec2query error.
func ec2Error(w http.ResponseWriter, status int, code, msg string) {
	var b bytes.Buffer
	b.WriteString(`<Response><Errors><Error>`)
	el(&b, "Code", code)
	el(&b, "Message", msg)
	b.WriteString(`</Error></Errors>`)
	el(&b, "RequestID", requestID())
	b.WriteString(`</Response>`)
	writeXML(w, status, b.Bytes())
}

var ec2NotFound = map[Kind]string{
	Instance:       "InvalidInstanceID.NotFound",
	InstanceStatus: "InvalidInstanceID.NotFound",
	Volume:         "InvalidVolume.NotFound",
	Image:          "InvalidAMIID.NotFound",
	NatGateway:     "NatGatewayNotFound",
}

var instanceStateCodes = map[string]string{
	"pending": "0", "running": "16", "shutting-down": "32", "terminated": "48", "stopping": "64", "stopped": "80",
}

func (s *Server) ec2(w http.ResponseWriter, r *http.Request) {
	form := parseForm(r)
	action := form.Get("Action")
	var kind Kind
	var idParam string
	switch action {
	case "DescribeInstances":
		kind, idParam = Instance, "InstanceId"
	case "DescribeInstanceStatus":
		kind, idParam = InstanceStatus, "InstanceId"
	case "DescribeVolumes":
		kind, idParam = Volume, "VolumeId"
	case "DescribeImages":
		kind, idParam = Image, "ImageId"
	case "DescribeNatGateways":
		kind, idParam = NatGateway, "NatGatewayId"
	default:
		ec2Error(w, http.StatusBadRequest, "InvalidAction", "action not faked")
		return
	}
	a := s.next(kind, listParam(form, idParam))
	setRetryAfter(w, a.fault.RetryAfter)
	switch a.fault.Fault {
	case None:
	case Gone:
		ec2Error(w, http.StatusBadRequest, ec2NotFound[kind], fmt.Sprintf("The ID '%s' does not exist", a.faultID))
		return
	case Throttle:
		ec2Error(w, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
		return
	case Unavailable:
		ec2Error(w, http.StatusServiceUnavailable, "Unavailable", "The server is overloaded")
		return
	case Drop:
		drop(w)
		return
	case Denied:
		ec2Error(w, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
		return
	case Invalid:
		ec2Error(w, http.StatusBadRequest, "InvalidParameterValue", "Invalid id")
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`, action)
	el(&b, "requestId", requestID())
	switch kind {
	case Instance:
		b.WriteString(`<reservationSet><item><reservationId>r-0fake</reservationId><instancesSet>`)
		for i, id := range a.ids {
			st := a.steps[i]
			b.WriteString("<item>")
			el(&b, "instanceId", id)
			b.WriteString("<instanceState>")
			el(&b, "code", instanceStateCodes[st.Status])
			el(&b, "name", st.Status)
			b.WriteString("</instanceState>")
			if st.Reason != "" {
				b.WriteString("<stateReason><code>Client.UserInitiatedShutdown</code>")
				el(&b, "message", st.Reason)
				b.WriteString("</stateReason>")
			}
			b.WriteString("</item>")
		}
		b.WriteString(`</instancesSet></item></reservationSet>`)
	case InstanceStatus:
		b.WriteString(`<instanceStatusSet>`)
		for i, id := range a.ids {
			st := a.steps[i]
			b.WriteString("<item>")
			el(&b, "instanceId", id)
			b.WriteString("<instanceState><code>16</code><name>running</name></instanceState><instanceStatus>")
			el(&b, "status", st.Status)
			b.WriteString("</instanceStatus><systemStatus>")
			el(&b, "status", attr(st, "SystemStatus", st.Status))
			b.WriteString("</systemStatus></item>")
		}
		b.WriteString(`</instanceStatusSet>`)
	case Volume:
		b.WriteString(`<volumeSet>`)
		for i, id := range a.ids {
			b.WriteString("<item>")
			el(&b, "volumeId", id)
			el(&b, "status", a.steps[i].Status)
			b.WriteString("</item>")
		}
		b.WriteString(`</volumeSet>`)
	case Image:
		b.WriteString(`<imagesSet>`)
		for i, id := range a.ids {
			st := a.steps[i]
			b.WriteString("<item>")
			el(&b, "imageId", id)
			el(&b, "imageState", st.Status)
			if st.Reason != "" {
				b.WriteString("<stateReason><code>Client.Error</code>")
				el(&b, "message", st.Reason)
				b.WriteString("</stateReason>")
			}
			b.WriteString("</item>")
		}
		b.WriteString(`</imagesSet>`)
	case NatGateway:
		b.WriteString(`<natGatewaySet>`)
		for i, id := range a.ids {
			st := a.steps[i]
			b.WriteString("<item>")
			el(&b, "natGatewayId", id)
			el(&b, "state", st.Status)
			el(&b, "failureMessage", st.Reason)
			b.WriteString("</item>")
		}
		b.WriteString(`</natGatewaySet>`)
	}
	fmt.Fprintf(&b, `</%sResponse>`, action)
	writeXML(w, http.StatusOK, b.Bytes())
}
