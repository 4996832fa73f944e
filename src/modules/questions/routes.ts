import { idempotencyHeaders, idParams, shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf } from "../../lib/pagination.js";
import { shopIdOf } from "../../plugins/auth.js";
import { commonErrors } from "../../plugins/problem.js";
import { createQuestionBody, listQuestionsQuery, questionDetailSchema, questionSchema } from "./schemas.js";
import type { QuestionService } from "./service.js";

export const questionRoutes: RoutesPlugin<{ questions: QuestionService }> = async (app, { questions }) => {
  const tags = ["questions"];
  const security = shopAuth;

  app.post(
    "/questions",
    {
      schema: {
        tags,
        security,
        summary: "Ask a question for a customer: routing starts at once, and the customer gets a text with their status page",
        headers: idempotencyHeaders,
        body: createQuestionBody,
        response: { 201: questionSchema, ...commonErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await questions.createQuestion(shopIdOf(request), request.body)),
  );

  app.get(
    "/questions",
    {
      schema: { tags, security, summary: "List questions, newest first", querystring: listQuestionsQuery, response: { 200: pageOf(questionSchema), ...commonErrors } },
    },
    async (request) => questions.listQuestions(shopIdOf(request), request.query),
  );

  app.get(
    "/questions/:id",
    {
      schema: {
        tags,
        security,
        summary: "A question with its timeline, its offers and why each expert ranked where they did",
        params: idParams,
        response: { 200: questionDetailSchema, ...commonErrors },
      },
    },
    async (request) => questions.getQuestion(shopIdOf(request), request.params.id),
  );

  app.post(
    "/questions/:id/cancel",
    {
      schema: {
        tags,
        security,
        summary: "Stop looking for an expert (only before one accepted); the customer is told",
        params: idParams,
        headers: idempotencyHeaders,
        response: { 200: questionSchema, ...commonErrors },
      },
    },
    async (request) => questions.cancelQuestion(shopIdOf(request), request.params.id),
  );
};
