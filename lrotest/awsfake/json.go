package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

type obj = map[string]any

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsonProtocol is the flavour of a JSON service: REST-JSON names the error
// in X-Amzn-ErrorType; awsJson 1.0/1.1 in the body's __type.
type jsonProtocol struct {
	contentType string
	// typePrefix qualifies __type (DynamoDB's "com.amazonaws.dynamodb.v20120810#").
	typePrefix string
	rest       bool
	throttle   string
	throttleSt int
	invalid    string
}

var (
	restJSON = jsonProtocol{contentType: "application/json", rest: true,
		throttle: "ThrottlingException", throttleSt: http.StatusTooManyRequests, invalid: "InvalidParameterException"}
	lambdaJSON = jsonProtocol{contentType: "application/json", rest: true,
		throttle: "TooManyRequestsException", throttleSt: http.StatusTooManyRequests, invalid: "InvalidParameterValueException"}
	ecsJSON = jsonProtocol{contentType: "application/x-amz-json-1.1",
		throttle: "ThrottlingException", throttleSt: http.StatusBadRequest, invalid: "InvalidParameterException"}
	dynamoJSON = jsonProtocol{contentType: "application/x-amz-json-1.0", typePrefix: "com.amazonaws.dynamodb.v20120810#",
		throttle: "ThrottlingException", throttleSt: http.StatusBadRequest, invalid: "ValidationException"}
)

func (p jsonProtocol) error(w http.ResponseWriter, status int, code, msg string) {
	body := obj{"message": msg}
	if p.rest {
		w.Header().Set("X-Amzn-ErrorType", code)
	} else {
		body["__type"] = p.typePrefix + code
	}
	writeJSON(w, status, p.contentType, body)
}

// fault answers a faulted step; it reports false for a step without one.
func (p jsonProtocol) fault(w http.ResponseWriter, st Step, gone func()) bool {
	setRetryAfter(w, st.RetryAfter)
	switch st.Fault {
	case None:
		return false
	case Gone:
		gone()
	case Throttle:
		p.error(w, p.throttleSt, p.throttle, "Rate exceeded")
	case Unavailable:
		p.error(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Service is unavailable")
	case Drop:
		drop(w)
	case Denied:
		p.error(w, http.StatusForbidden, "AccessDeniedException", "User is not authorized to perform this action")
	case Invalid:
		p.error(w, http.StatusBadRequest, p.invalid, "1 validation error detected")
	}
	return true
}

func (s *Server) eks(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(parts) < 2 || parts[0] != "clusters" {
		restJSON.error(w, http.StatusNotFound, "ResourceNotFoundException", "operation not faked")
		return
	}
	notFound := func(what string) func() {
		return func() {
			restJSON.error(w, http.StatusNotFound, "ResourceNotFoundException", "No "+what+" found for name: "+parts[len(parts)-1]+".")
		}
	}
	health := func(st Step) obj {
		if st.Reason == "" {
			return obj{"issues": []any{}}
		}
		return obj{"issues": []any{obj{"code": "InternalFailure", "message": st.Reason}}}
	}
	switch {
	case len(parts) == 2:
		a := s.next(Cluster, []string{parts[1]})
		if restJSON.fault(w, a.fault, notFound("cluster")) {
			return
		}
		st := a.steps[0]
		writeJSON(w, http.StatusOK, "application/json", obj{"cluster": obj{
			"name": parts[1], "arn": "arn:aws:eks:us-east-1:123456789012:cluster/" + parts[1],
			"status": st.Status, "health": health(st)}})
	case len(parts) == 4 && parts[2] == "node-groups":
		a := s.next(Nodegroup, []string{parts[1] + "/" + parts[3]})
		if restJSON.fault(w, a.fault, notFound("node group")) {
			return
		}
		st := a.steps[0]
		writeJSON(w, http.StatusOK, "application/json", obj{"nodegroup": obj{
			"nodegroupName": parts[3], "clusterName": parts[1], "status": st.Status, "health": health(st)}})
	case len(parts) == 4 && parts[2] == "addons":
		a := s.next(Addon, []string{parts[1] + "/" + parts[3]})
		if restJSON.fault(w, a.fault, notFound("addon")) {
			return
		}
		st := a.steps[0]
		writeJSON(w, http.StatusOK, "application/json", obj{"addon": obj{
			"addonName": parts[3], "clusterName": parts[1], "status": st.Status, "health": health(st)}})
	default:
		restJSON.error(w, http.StatusNotFound, "ResourceNotFoundException", "operation not faked")
	}
}

func (s *Server) lambda(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	if r.Method != http.MethodGet || !ok || rest == "" {
		lambdaJSON.error(w, http.StatusNotFound, "ResourceNotFoundException", "operation not faked")
		return
	}
	name, sub, _ := strings.Cut(rest, "/")
	a := s.next(Function, []string{name})
	if lambdaJSON.fault(w, a.fault, func() {
		lambdaJSON.error(w, http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: arn:aws:lambda:us-east-1:123456789012:function:"+name)
	}) {
		return
	}
	st := a.steps[0]
	conf := obj{
		"FunctionName":     name,
		"FunctionArn":      "arn:aws:lambda:us-east-1:123456789012:function:" + name,
		"State":            st.Status,
		"LastUpdateStatus": attr(st, "LastUpdateStatus", "Successful"),
	}
	if st.Reason != "" {
		conf["StateReason"] = st.Reason
	}
	if v := attr(st, "LastUpdateStatusReason", ""); v != "" {
		conf["LastUpdateStatusReason"] = v
	}
	if sub == "configuration" {
		writeJSON(w, http.StatusOK, "application/json", conf)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", obj{"Configuration": conf})
}

func (s *Server) ecs(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeServices") {
		ecsJSON.error(w, http.StatusBadRequest, "InvalidAction", "operation not faked")
		return
	}
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		ecsJSON.error(w, http.StatusBadRequest, "SerializationException", "bad body")
		return
	}
	cluster := in.Cluster
	if cluster == "" {
		cluster = "default"
	}
	ids := make([]string, len(in.Services))
	for i, sv := range in.Services {
		ids[i] = cluster + "/" + sv
	}
	if len(ids) == 0 {
		ecsJSON.error(w, http.StatusBadRequest, "InvalidParameterException", "Services cannot be empty.")
		return
	}
	a := s.next(Service, ids)
	if a.fault.Fault != Gone && ecsJSON.fault(w, a.fault, nil) {
		return
	}
	services, failures := []any{}, []any{}
	for i, id := range a.ids {
		st := a.steps[i]
		arn := "arn:aws:ecs:us-east-1:123456789012:service/" + id
		if st.Fault == Gone {
			failures = append(failures, obj{"arn": arn, "reason": "MISSING"})
			continue
		}
		deps := []any{}
		for d := range attrInt(st, "deployments", 1) {
			deps = append(deps, obj{"id": fmt.Sprintf("ecs-svc/%d", d), "status": "PRIMARY"})
		}
		services = append(services, obj{
			"serviceArn": arn, "serviceName": in.Services[i], "status": st.Status,
			"desiredCount": attrInt(st, "desiredCount", 1), "runningCount": attrInt(st, "runningCount", 1),
			"deployments": deps,
		})
	}
	writeJSON(w, http.StatusOK, ecsJSON.contentType, obj{"services": services, "failures": failures})
}

func (s *Server) dynamoDB(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeTable") {
		dynamoJSON.error(w, http.StatusBadRequest, "UnknownOperationException", "operation not faked")
		return
	}
	var in struct {
		TableName string `json:"TableName"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil || in.TableName == "" {
		dynamoJSON.error(w, http.StatusBadRequest, "ValidationException", "TableName is required")
		return
	}
	a := s.next(Table, []string{in.TableName})
	if dynamoJSON.fault(w, a.fault, func() {
		dynamoJSON.error(w, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+in.TableName+" not found")
	}) {
		return
	}
	writeJSON(w, http.StatusOK, dynamoJSON.contentType, obj{"Table": obj{
		"TableName": in.TableName, "TableStatus": a.steps[0].Status,
		"TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/" + in.TableName,
	}})
}
