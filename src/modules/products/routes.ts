import { z } from "zod";
import { idempotencyHeaders, idParams, shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf } from "../../lib/pagination.js";
import { shopIdOf } from "../../plugins/auth.js";
import { commonErrors } from "../../plugins/problem.js";
import { createProductBody, listProductsQuery, productSchema, updateProductBody } from "./schemas.js";
import type { ProductService } from "./service.js";

export const productRoutes: RoutesPlugin<{ products: ProductService }> = async (app, { products }) => {
  const tags = ["products"];
  const security = shopAuth;

  app.post(
    "/products",
    {
      schema: {
        tags,
        security,
        summary: "Create a product (sku unique per shop)",
        headers: idempotencyHeaders,
        body: createProductBody,
        response: { 201: productSchema, ...commonErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await products.createProduct(shopIdOf(request), request.body)),
  );

  app.get(
    "/products",
    {
      schema: {
        tags,
        security,
        summary: "List products, newest first",
        querystring: listProductsQuery,
        response: { 200: pageOf(productSchema), ...commonErrors },
      },
    },
    async (request) => products.listProducts(shopIdOf(request), request.query),
  );

  app.get(
    "/products/:id",
    { schema: { tags, security, params: idParams, response: { 200: productSchema, ...commonErrors } } },
    async (request) => products.getProduct(shopIdOf(request), request.params.id),
  );

  app.patch(
    "/products/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change some fields of a product",
        params: idParams,
        body: updateProductBody,
        response: { 200: productSchema, ...commonErrors },
      },
    },
    async (request) => products.updateProduct(shopIdOf(request), request.params.id, request.body),
  );

  app.delete(
    "/products/:id",
    { schema: { tags, security, params: idParams, response: { 204: z.null(), ...commonErrors } } },
    async (request, reply) => {
      await products.deleteProduct(shopIdOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
