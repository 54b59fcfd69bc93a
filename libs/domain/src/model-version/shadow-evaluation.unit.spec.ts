import {
  bob,
  CONTEXT,
  contextWith,
  deciderSpec,
  commandsOf,
  deployer,
  evaluationMeasured,
  evaluationRequested,
  evaluator,
  NOW,
  policyWith,
  POLICY,
  registeredVersion,
  stageTransitioned,
  transitionRequested,
} from '@mrw/testing';
import { decideModelVersion } from './model-version.decider';
import { evolveModelVersion, initialModelVersionState } from './model-version.state';
import type { ModelVersionCommand } from './model-version.commands';

const spec = deciderSpec(
  { decide: decideModelVersion, evolve: evolveModelVersion, initialState: initialModelVersionState },
  { timeOf: (command) => command.metadata.now },
);
const versionCommand = commandsOf<ModelVersionCommand>();
const SHADOW_CONTEXT = contextWith({ policy: policyWith({ deployment: { targets: POLICY.deployment?.targets ?? [], shadow: true } }) });
const ENDPOINT = 'http://127.0.0.1:41234';

const toStaging = () => versionCommand('RequestStageTransition', { toStage: 'Staging', comment: '', context: SHADOW_CONTEXT }, { by: bob, at: NOW, id: 'cmd-staging' });
const shadowReport = (report: { outcome: 'ready'; endpoint: string } | { outcome: 'failed'; reason: string }, evaluationId = 'eval-1') =>
  versionCommand('RecordShadowDeployment', { evaluationId, environment: 'shadow', ...report }, { by: deployer, at: NOW, id: `cmd-shadow-${report.outcome}` });

/** v7 entered Staging under a shadow policy: `eval-1` waits for the shadow deployment. */
const shadowEvaluationRequested = () => [
  ...registeredVersion(),
  transitionRequested('req-staging', 'None', 'Staging'),
  stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'req-staging' }),
  evaluationRequested('eval-1', { scoring: { via: 'shadow', environment: 'shadow' } }),
];

describe('shadow evaluation (policy deployment.shadow)', () => {
  it('asks for scoring through the shadow environment when the policy says so, and not otherwise', () => {
    spec
      .given(...registeredVersion())
      .when(toStaging())
      .thenEvents((events) => {
        expect(events.find((e) => e.type === 'EvaluationRequested')?.data).toMatchObject({ scoring: { via: 'shadow', environment: 'shadow' } });
      });
    spec
      .given(...registeredVersion())
      .when(versionCommand('RequestStageTransition', { toStage: 'Staging', comment: '', context: CONTEXT }, { by: bob, at: NOW, id: 'cmd-staging' }))
      .thenEvents((events) => {
        expect(events.find((e) => e.type === 'EvaluationRequested')?.data).not.toHaveProperty('scoring');
      });
  });

  it('shows the evaluation as deploying to shadow, then ready with the endpoint', () => {
    spec
      .given(...shadowEvaluationRequested())
      .when(shadowReport({ outcome: 'ready', endpoint: ENDPOINT }))
      .then({ type: 'ShadowDeploymentReady', data: { evaluationId: 'eval-1', environment: 'shadow', endpoint: ENDPOINT } });
    spec
      .given(...shadowEvaluationRequested())
      .when(shadowReport({ outcome: 'ready', endpoint: ENDPOINT }))
      .thenState((state) => {
        expect(state).toMatchObject({ evaluations: [{ id: 'eval-1', status: 'running', shadow: { status: 'ready', endpoint: ENDPOINT } }] });
      });
  });

  it('a repeated ready report appends nothing', () => {
    spec
      .given(...shadowEvaluationRequested(), { type: 'ShadowDeploymentReady', data: { evaluationId: 'eval-1', environment: 'shadow', endpoint: ENDPOINT } })
      .when(shadowReport({ outcome: 'ready', endpoint: ENDPOINT }))
      .then();
  });

  it('a failed shadow deployment fails the evaluation with SHADOW_DEPLOYMENT_FAILED and the reason', () => {
    spec
      .given(...shadowEvaluationRequested())
      .when(shadowReport({ outcome: 'failed', reason: 'MODEL_UNREADABLE: not an ONNX model' }))
      .then(
        { type: 'ShadowDeploymentFailed', data: { evaluationId: 'eval-1', environment: 'shadow', reason: 'MODEL_UNREADABLE: not an ONNX model' } },
        {
          type: 'EvaluationFailed',
          data: {
            evaluationId: 'eval-1',
            code: 'SHADOW_DEPLOYMENT_FAILED',
            reason: 'the candidate could not be served in the shadow environment: MODEL_UNREADABLE: not an ONNX model',
          },
        },
      );
  });

  it('refuses a shadow report for an in-process evaluation: NOT_SHADOW_EVALUATION', () => {
    spec
      .given(...registeredVersion(), transitionRequested('req-staging', 'None', 'Staging'), stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'req-staging' }), evaluationRequested('eval-1'))
      .when(shadowReport({ outcome: 'ready', endpoint: ENDPOINT }))
      .thenFails('NOT_SHADOW_EVALUATION');
  });

  it('refuses a shadow report once the evaluation finished: EVALUATION_NOT_RUNNING', () => {
    spec
      .given(...shadowEvaluationRequested(), { type: 'EvaluationFailed', data: { evaluationId: 'eval-1', code: 'X', reason: 'x' } })
      .when(shadowReport({ outcome: 'ready', endpoint: ENDPOINT }))
      .thenFails('EVALUATION_NOT_RUNNING');
  });

  it('records which way the models were scored with the result', () => {
    const scoring = { candidate: { via: 'shadow' as const, environment: 'shadow', endpoint: ENDPOINT }, champion: { via: 'in-process' as const } };
    spec
      .given(...shadowEvaluationRequested(), { type: 'ShadowDeploymentReady', data: { evaluationId: 'eval-1', environment: 'shadow', endpoint: ENDPOINT } })
      .when(versionCommand('RecordEvaluationResult', { ...evaluationMeasured('eval-1', { scoring }), context: SHADOW_CONTEXT }, { by: evaluator, at: NOW, id: 'cmd-result' }))
      .thenState((state) => {
        expect(state).toMatchObject({ evaluations: [{ id: 'eval-1', status: 'completed', scoring, shadow: { status: 'ready' } }] });
      });
  });
});
